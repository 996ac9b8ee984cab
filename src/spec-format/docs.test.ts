// The examples in docs/spec-format.md are checked, so the page cannot drift from the validator.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODE_LEVELS } from './issues.js';
import { parseSpecFile } from './parse.js';

const page = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'spec-format.md'), 'utf8');

describe('docs/spec-format.md', () => {
  it('each example file parses with no issue of its own', () => {
    const examples = [
      ...page.matchAll(/^`([a-z]+\/[A-Za-z0-9-]+\.md)`:\n\n```markdown\n([\s\S]*?)\n```\n/gm),
    ];
    expect(examples.map((m) => m[1]!.split('/')[0])).toEqual([
      'docs',
      'requirements',
      'designs',
      'tickets',
      'tasks',
    ]);
    for (const [, path, content] of examples) {
      const { document, issues } = parseSpecFile(`.omoi_os/${path}`, `${content}\n`);
      expect(issues, path).toEqual([]);
      expect(document?.id, path).toBeTruthy();
    }
  });

  it('the rules table names every code with its level', () => {
    for (const [code, level] of Object.entries(CODE_LEVELS)) {
      expect(page).toMatch(new RegExp(`^\\| \`${code}\` \\| ${level} \\|`, 'm'));
    }
  });
});
