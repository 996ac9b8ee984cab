// Whatever a file holds, validation ends as a report: never a throw, never a hang.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { find, random, toFiles, validTree } from '../../test/spec-format/tree.js';
import { loadSpecFiles, MAX_SPEC_FILE_BYTES } from './load.js';
import { parseSpecFile } from './parse.js';
import type { SpecFile } from './types.js';
import { validateSpecDir, validateSpecFiles } from './validate.js';

const TASK = '.omoi_os/tasks/TSK-001.md';

function expectReport(files: SpecFile[]) {
  const report = validateSpecFiles(files);
  expect(typeof report.valid).toBe('boolean');
  expect(report.summary.errors + report.summary.warnings).toBe(report.issues.length);
  for (const i of report.issues) {
    expect(i.line === null || (Number.isInteger(i.line) && i.line >= 1)).toBe(true);
    expect(i.message.length).toBeGreaterThan(0);
  }
  return report;
}

describe('robustness', () => {
  it('random bytes in every kind of file', () => {
    const next = random(42);
    const folders = [
      'tasks/TSK-001.md',
      'tickets/TKT-001.md',
      'requirements/a.md',
      'designs/a.md',
      'docs/prd-a.md',
    ];
    for (let round = 0; round < 60; round++) {
      const files = folders.map((name) => {
        const bytes = new Uint8Array(Math.floor(next() * 2000));
        for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
        // Every other round, start with a frontmatter fence so the YAML parser sees the noise.
        if (round % 2 === 0 && bytes.length > 4) bytes.set([45, 45, 45, 10]);
        return { path: `.omoi_os/${name}`, content: bytes };
      });
      const report = expectReport(files);
      expect(report.summary.files).toBe(5);
    }
  });

  it('random edits of a valid tree', () => {
    const next = random(7);
    const tree = validTree();
    for (let round = 0; round < 200; round++) {
      const files = toFiles(tree).map((f) => {
        let text = String(f.content);
        for (let k = 0; k < 5; k++) {
          const at = Math.floor(next() * text.length);
          const pieces = ['---', '\n', ':', '[', '{', '&a', '*a', '- ', '  ', '"', '#', '```', '- [ ] '];
          text =
            next() < 0.5
              ? text.slice(0, at) + text.slice(at + Math.floor(next() * 20))
              : text.slice(0, at) + pieces[Math.floor(next() * pieces.length)] + text.slice(at);
        }
        return { path: f.path, content: text };
      });
      expectReport(files);
    }
  });

  it('a binary file (PNG bytes, NUL) named .md is FRONTMATTER_MISSING', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48]);
    const report = expectReport([{ path: TASK, content: png }]);
    expect(find(report, 'FRONTMATTER_MISSING')[0]).toMatchObject({ path: TASK, line: 1 });
    expect(find(report, 'FRONTMATTER_MISSING')[0]!.message).toMatch(/not UTF-8/);
    const nul = expectReport([{ path: TASK, content: '---\nid: TSK-001\u0000\n---\n' }]);
    expect(find(nul, 'FRONTMATTER_MISSING')).toHaveLength(1);
  });

  it('a frontmatter block never closed, over a long file', () => {
    const text = `---\nid: TSK-001\n${'title: x\n'.repeat(1)}${'just text\n'.repeat(50_000)}`;
    const report = expectReport([{ path: TASK, content: text }]);
    expect(report.issues).toEqual([expect.objectContaining({ code: 'FRONTMATTER_MISSING', line: 1 })]);
  });

  it('YAML anchors and aliases: ordinary use works, an alias bomb is YAML_INVALID', () => {
    const tree = validTree();
    const aliased = tree[TASK]!.replace('created: 2026-11-01', 'created: &d 2026-11-01').replace(
      'updated: 2026-11-02',
      'updated: *d',
    );
    const ok = expectReport(toFiles({ ...tree, [TASK]: aliased }));
    expect(ok.issues).toEqual([]);
    expect(ok.documents.find((d) => d.id === 'TSK-001')!.frontmatter.updated).toBe('2026-11-01');

    const lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    const bomb = `---\n${lines.join('\n')}\n---\n`;
    const report = expectReport([{ path: TASK, content: bomb }]);
    expect(report.issues).toEqual([expect.objectContaining({ code: 'YAML_INVALID', path: TASK })]);
  });

  it('5 MB files: a long body, one long line, a huge frontmatter', () => {
    const tree = validTree();
    const body = `${tree[TASK]!}${'- [ ] another criterion with some words in it\n'.repeat(110_000)}`;
    expect(body.length).toBeGreaterThan(5_000_000);
    const report = expectReport(toFiles({ ...tree, [TASK]: body }));
    expect(report.issues).toEqual([]);

    const line = `${tree[TASK]!}${'# '.repeat(1_300_000)}x ${'the '.repeat(400_000)}`;
    expectReport([{ path: TASK, content: line }]);

    const heading = `---\nid: REQ-A-001\n---\n### REQ-A-B-001: ${'#'.repeat(5_000_000)}\n`;
    expectReport([{ path: '.omoi_os/requirements/a.md', content: heading }]);

    const ears = `---\nid: REQ-A-001\n---\n### REQ-A-B-001: x\nwhen ${'the '.repeat(1_300_000)}\n`;
    const slow = expectReport([{ path: '.omoi_os/requirements/a.md', content: ears }]);
    expect(find(slow, 'EARS_MISSING')).toHaveLength(1);

    const fm = `---\nid: TSK-001\nnotes: |\n${'  a line of notes\n'.repeat(300_000)}---\n`;
    const big = expectReport([{ path: TASK, content: fm }]);
    expect(find(big, 'FIELD_UNKNOWN')[0]?.line).toBe(3);
  });

  it('deep nesting in the frontmatter and the body', () => {
    const deep = 20_000;
    const flow = `---\nid: TSK-001\nx: ${'['.repeat(deep)}${']'.repeat(deep)}\n---\n`;
    expectReport([{ path: TASK, content: flow }]);
    const block = `---\nid: TSK-001\n${Array.from({ length: 2_000 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n')} 1\n---\n`;
    expectReport([{ path: TASK, content: block }]);
    const quotes = `${validTree()[TASK]!}${'>'.repeat(100_000)} deep quote\n${'- '.repeat(50_000)}item\n`;
    expectReport([{ path: TASK, content: quotes }]);
  });

  it('many items in one requirements document stays linear', () => {
    const items = Array.from(
      { length: 20_000 },
      (_, i) => `### REQ-A-B-${String(i).padStart(5, '0')}: x\nTHE SYSTEM SHALL x\n- [ ] x\n`,
    );
    const text = `---\nid: REQ-A-001\n---\n${items.join('\n')}`;
    const { document } = parseSpecFile('.omoi_os/requirements/a.md', text);
    expect(document?.items).toHaveLength(20_000);
  });

  it('malformed inputs to validateSpecFiles are reported, not thrown', () => {
    const junk = [
      { path: 42, content: null },
      { path: '.omoi_os/tasks/TSK-001.md', content: { not: 'text' } },
      null,
      { path: '/etc/passwd', content: 'x' },
      { path: '', content: '' },
    ] as unknown as SpecFile[];
    const report = expectReport(junk);
    expect(find(report, 'FILE_UNEXPECTED').map((i) => i.path)).toContain('/etc/passwd');
    expect(find(report, 'FRONTMATTER_MISSING').map((i) => i.path)).toContain('.omoi_os/tasks/TSK-001.md');
  });
});

describe('loadSpecFiles and validateSpecDir on disk', () => {
  const root = mkdtempSync(join(tmpdir(), 'omoi-spec-load-'));
  const outside = mkdtempSync(join(tmpdir(), 'omoi-spec-outside-'));
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('reads the tree, never follows a symlink out of it, and cuts symlink loops', async () => {
    for (const [path, content] of Object.entries(validTree())) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    writeFileSync(join(outside, 'TSK-900.md'), validTree()[TASK]!.replace(/TSK-001/g, 'TSK-900'));
    symlinkSync(join(outside, 'TSK-900.md'), join(root, '.omoi_os/tasks/TSK-900.md'));
    symlinkSync(outside, join(root, '.omoi_os/tasks/linked-dir'));
    symlinkSync(join(root, '.omoi_os'), join(root, '.omoi_os/designs/loop'));
    // A symlink that stays inside the tree is read like the file it points at.
    symlinkSync(join(root, '.omoi_os/docs/prd-auth.md'), join(root, '.omoi_os/docs/prd-auth-copy.md'));
    writeFileSync(join(root, '.omoi_os/tasks/bin.md'), new Uint8Array([0xff, 0xfe, 0, 1, 2]));

    const files = await loadSpecFiles(root);
    const paths = files.map((f) => f.path);
    expect(paths).not.toContain('.omoi_os/tasks/TSK-900.md');
    expect(paths.some((p) => p.includes('linked-dir'))).toBe(false);
    expect(paths).toContain('.omoi_os/docs/prd-auth-copy.md');
    expect(paths).toContain('.omoi_os/tasks/TSK-001.md');
    expect(paths).toEqual([...paths].sort());
    expect(typeof files.find((f) => f.path === TASK)!.content).toBe('string');
    expect(files.find((f) => f.path === '.omoi_os/tasks/bin.md')!.content).toBeInstanceOf(Uint8Array);

    const report = await validateSpecDir(root);
    expect(find(report, 'FILE_UNEXPECTED')).toContainEqual(
      expect.objectContaining({ path: '.omoi_os/tasks/TSK-900.md', line: null }),
    );
    expect(find(report, 'FRONTMATTER_MISSING').map((i) => i.path)).toEqual(['.omoi_os/tasks/bin.md']);
    // The in-tree copy of the PRD repeats its id.
    expect(find(report, 'ID_DUPLICATE').map((i) => i.path)).toEqual(['.omoi_os/docs/prd-auth.md']);
  });

  it('a Markdown file over the size limit is reported, not read', async () => {
    const dir = join(outside, 'big');
    mkdirSync(join(dir, '.omoi_os', 'tasks'), { recursive: true });
    writeFileSync(join(dir, '.omoi_os', 'tasks', 'TSK-001.md'), validTree()[TASK]!);
    writeFileSync(join(dir, '.omoi_os', 'tasks', 'TSK-002.md'), Buffer.alloc(MAX_SPEC_FILE_BYTES + 1, 0x61));
    const skipped: string[] = [];
    const files = await loadSpecFiles(dir, { onSkip: (path) => skipped.push(path) });
    expect(files.map((f) => f.path)).toEqual([TASK]);
    expect(skipped).toEqual(['.omoi_os/tasks/TSK-002.md']);
    const report = await validateSpecDir(dir);
    expect(find(report, 'FILE_UNEXPECTED')).toEqual([
      expect.objectContaining({
        path: '.omoi_os/tasks/TSK-002.md',
        line: null,
        message: expect.stringMatching(/larger than 16 MB/),
      }),
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a folder without .omoi_os/ (or missing altogether) is DIR_MISSING', async () => {
    for (const dir of [outside, join(outside, 'nope')]) {
      const report = await validateSpecDir(dir);
      expect(report.issues).toEqual([
        expect.objectContaining({ code: 'DIR_MISSING', path: '.omoi_os', line: null }),
      ]);
      expect(report.summary.files).toBe(0);
    }
    expect(await loadSpecFiles(join(outside, 'nope'))).toEqual([]);
  });
});
