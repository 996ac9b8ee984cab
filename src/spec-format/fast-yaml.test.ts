import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { random, validTree } from '../../test/spec-format/tree.js';
import { parseFrontmatterFast } from './fast-yaml.js';
import { readYaml } from './parse.js';

function frontmatterOf(text: string): string {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const close = lines.indexOf('---', 1);
  return lines.slice(1, close).join('\n');
}

/** The fast path, when it answers, must agree with the YAML library on values and lines. */
function expectSameAsLibrary(source: string): boolean {
  const fast = parseFrontmatterFast(source, 2);
  if (fast === null) return false;
  const slow = readYaml('x.md', source);
  expect('issue' in slow ? slow.issue : null, source).toBeNull();
  if ('issue' in slow) return true;
  expect(fast.value, source).toEqual(slow.frontmatter);
  expect([...fast.keyLines].sort(), source).toEqual([...slow.keyLines].sort());
  return true;
}

describe('the frontmatter fast path', () => {
  const examples = join(import.meta.dirname, '..', '..', 'examples', 'spec-driven', '.omoi_os');
  const realFiles = [
    ...Object.values(validTree()).filter((t) => t.startsWith('---')),
    ...readdirSync(examples, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8')),
  ];

  it('takes every real file of the base and example trees, agreeing with the library', () => {
    for (const text of realFiles) expect(expectSameAsLibrary(frontmatterOf(text))).toBe(true);
  });

  it('takes common variations and agrees with the library', () => {
    const accepted = [
      "a: x # comment\nb: \"quoted # not a comment\"\nc: 'it''s'\n# a comment line\nd:",
      'title: Fix [bug] in {module}\nurl: http://x.test/a?b=c\nsay: a "quote" inside\nneg: -x',
      'list: [a, b, ]\nempty: []\nflag: true\nnone: ~\nyes: yes\nver: 1.2.3\ndate: 2026-01-01',
      'deps:\n  depends_on:\n    - A\n    - "B"\n  blocks: [C]\n  related:\nnext: x',
      'items:\n- a\n- b',
      'items:\n  - a # c\n  -   spaced',
      'k: [x] # trailing',
    ];
    let taken = 0;
    for (const source of accepted) if (expectSameAsLibrary(source)) taken++;
    expect(taken).toBeGreaterThanOrEqual(6);
  });

  it('declines what it does not read (the library takes over)', () => {
    const declined = [
      'a: &x 1\nb: *x',
      'a: |\n  text',
      'a: "esc\\n"',
      'a: 12',
      'a: 0x1F',
      'a: x\na: y',
      'a: b: c',
      'a:\n  b:\n    c: d',
      'a: x\n  continued',
      '\ta: x',
      'a: {b: c}',
      'a: [[x]]',
      '- x',
      '? a\n: b',
      'a: !!str x',
      'a:\n  - [x]',
      '__proto__: x',
    ];
    for (const source of declined) expect(parseFrontmatterFast(source, 2), source).toBeNull();
  });

  it('agrees with the library on thousands of random edits', () => {
    const next = random(99);
    const pieces = [
      '#',
      ' #',
      ':',
      ': ',
      '[',
      ']',
      ',',
      '"',
      "'",
      '- ',
      '  ',
      '\n',
      '\n  ',
      '~',
      'null',
      'True',
      '1',
      '-',
      '{',
    ];
    let taken = 0;
    for (let round = 0; round < 3000; round++) {
      let source = frontmatterOf(realFiles[round % realFiles.length]!);
      for (let k = 0; k < 3; k++) {
        const at = Math.floor(next() * source.length);
        source =
          next() < 0.4
            ? source.slice(0, at) + source.slice(at + 1 + Math.floor(next() * 4))
            : source.slice(0, at) + pieces[Math.floor(next() * pieces.length)] + source.slice(at);
      }
      if (expectSameAsLibrary(source)) taken++;
    }
    // Most edits still leave a shape the fast path reads, so the comparison means something.
    expect(taken).toBeGreaterThan(500);
  });
});
