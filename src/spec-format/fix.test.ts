import { describe, expect, it } from 'vitest';
import { validTree } from '../../test/spec-format/tree.js';
import { planSpecFixes } from './fix.js';
import { validateSpecFiles } from './validate.js';

const files = (tree: Record<string, string>) =>
  Object.entries(tree).map(([path, content]) => ({ path, content }));

describe('planSpecFixes', () => {
  it('adds a missing blocks mirror, keeping comments, CRLF and the other fields', () => {
    const tree = validTree();
    const t1 = '.omoi_os/tasks/TSK-001.md';
    tree[t1] = tree[t1]!.replace('blocks: [TSK-002, TSK-003]', 'blocks: [TSK-002] # the rest later').replace(
      /\n/g,
      '\r\n',
    );
    expect(validateSpecFiles(files(tree)).issues.map((i) => i.code)).toContain('DEP_ASYMMETRIC');
    const plan = planSpecFixes(files(tree));
    expect(plan.fixes).toEqual([
      { path: t1, kind: 'blocks', description: 'added TSK-003 to dependencies.blocks' },
    ]);
    const fixed = plan.contents.get(t1)!;
    expect(fixed).toContain('blocks: [TSK-002, TSK-003] # the rest later\r\n');
    expect(fixed.split('\r\n').length).toBe(tree[t1]!.split('\r\n').length);
    const after = validateSpecFiles(files({ ...tree, [t1]: fixed }));
    expect(after.issues.filter((i) => i.code === 'DEP_ASYMMETRIC')).toEqual([]);
  });

  it('a valid tree needs no fix; a file without any header is left alone', () => {
    expect(planSpecFixes(files(validTree())).fixes).toEqual([]);
    const tree = { ...validTree(), '.omoi_os/designs/plain.md': '# Just text\n\nNo header at all.\n' };
    expect(planSpecFixes(files(tree)).fixes).toEqual([]);
  });
});
