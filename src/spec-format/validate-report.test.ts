// The validator's report as its readers get it (the CLI prints it, agents act on its fixes, the
// API returns it whole): each cross-file rule's exact message and fix, the order of issues, the
// report's counts and skipped templates, and the folder entry point.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { edit, find, lineOf, type Tree, toFiles, validTree } from '../../test/spec-format/tree.js';
import type { IssueCode, ValidationIssue } from './types.js';
import { validateSpecDir, validateSpecFiles } from './validate.js';

const T1 = '.omoi_os/tasks/TSK-001.md';
const T2 = '.omoi_os/tasks/TSK-002.md';
const K1 = '.omoi_os/tickets/TKT-001.md';
const K2 = '.omoi_os/tickets/TKT-002.md';
const REQ = '.omoi_os/requirements/auth.md';

const check = (tree: Tree) => validateSpecFiles(toFiles(tree));

/** The one issue of `code` on `path`, with its message and fix. */
function only(tree: Tree, code: IssueCode, path: string): ValidationIssue {
  const hits = find(check(tree), code).filter((i) => i.path === path);
  expect(hits, JSON.stringify(check(tree).issues, null, 1)).toHaveLength(1);
  return hits[0]!;
}

describe('cross-file messages and fixes', () => {
  it('REF_MISSING names the key without its dependencies. prefix, what it names and the id', () => {
    const cases: [Tree, string, string][] = [
      [
        edit(validTree(), T2, 'depends_on: [TSK-001]', 'depends_on: [TSK-404]'),
        T2,
        'depends_on names task TSK-404',
      ],
      [edit(validTree(), T1, '  blocks: [', '  blocks: [TSK-404, '), T1, 'blocks names task TSK-404'],
      [edit(validTree(), K1, '  - TSK-003', '  - TSK-404'), K1, 'tasks names task TSK-404'],
      [edit(validTree(), K2, 'related: [TKT-001]', 'related: [TKT-404]'), K2, 'related names ticket TKT-404'],
      [
        edit(validTree(), T2, '  - REQ-AUTH-LOGIN-001', '  - REQ-AUTH-LOGIN-999'),
        T2,
        'requirements names requirement REQ-AUTH-LOGIN-999',
      ],
      [
        edit(validTree(), T2, 'parent_ticket: TKT-001', 'parent_ticket: TKT-404'),
        T2,
        'parent_ticket names ticket TKT-404',
      ],
    ];
    for (const [tree, path, text] of cases) {
      const found = find(check(tree), 'REF_MISSING').filter((i) => i.path === path);
      expect(found.map((i) => i.message)).toContain(`${text}, which does not exist`);
    }
    // A task named where a ticket belongs (and the reverse) is missing too: the kind must match.
    const wrongKind = edit(validTree(), K2, 'related: [TKT-001]', 'related: [TSK-001]');
    expect(only(wrongKind, 'REF_MISSING', K2).message).toBe(
      'related names ticket TSK-001, which does not exist',
    );
    const blockedBy = edit(validTree(), K2, /blocked_by:\n {4}- TKT-001/, 'blocked_by: [TSK-001]');
    expect(find(check(blockedBy), 'REF_MISSING').map((i) => i.message)).toContain(
      'blocked_by names ticket TSK-001, which does not exist',
    );
  });

  it('REF_MISSING for a path says where it looked and how paths are written', () => {
    const tree = edit(validTree(), K1, 'design_ref: designs/auth.md', 'design_ref: designs/nope.md');
    expect(only(tree, 'REF_MISSING', K1)).toMatchObject({
      message: 'design_ref points at designs/nope.md, but .omoi_os/designs/nope.md does not exist',
      fix: 'design_ref is a path relative to .omoi_os/, for example designs/auth.md',
      line: lineOf(tree[K1]!, 'design_ref:'),
    });
    const prd = edit(validTree(), REQ, 'prd_ref: docs/prd-auth.md', 'prd_ref: docs/none.md');
    expect(only(prd, 'REF_MISSING', REQ).message).toBe(
      'prd_ref points at docs/none.md, but .omoi_os/docs/none.md does not exist',
    );
    // A path written from the repository root, or with spaces around it, is the same file.
    const rooted = edit(
      validTree(),
      K1,
      'design_ref: designs/auth.md',
      "design_ref: ' .omoi_os/designs/auth.md '",
    );
    expect(find(check(rooted), 'REF_MISSING')).toEqual([]);
    // A blank reference is no reference (a missing required field is another rule's report).
    const blank = edit(validTree(), REQ, 'prd_ref: docs/prd-auth.md', "prd_ref: '  '");
    expect(find(check(blank), 'REF_MISSING')).toEqual([]);
  });

  it('ID_DUPLICATE: a file, a requirement item twice, and an item with a document’s id', () => {
    const file = { ...validTree(), '.omoi_os/requirements/zz-copy.md': validTree()[REQ]! };
    const dup = find(check(file), 'ID_DUPLICATE').find((i) => i.line === 2)!;
    expect(dup).toMatchObject({
      path: '.omoi_os/requirements/zz-copy.md',
      message: `id REQ-AUTH-001 is already used by ${REQ}`,
      fix: 'give each file its own id',
    });
    const item = edit(validTree(), REQ, '### REQ-AUTH-LOGIN-002: Log out', '### REQ-AUTH-LOGIN-001: Log out');
    expect(only(item, 'ID_DUPLICATE', REQ)).toMatchObject({
      message: `requirement REQ-AUTH-LOGIN-001 is already defined in ${REQ}`,
      fix: 'give each requirement item its own id',
    });
    // `requirements:` lists name items and documents alike, so an item may not take a file's id.
    const clash = edit(validTree(), REQ, '### REQ-AUTH-LOGIN-002: Log out', '### REQ-AUTH-001: Log out');
    const clashIssue = find(check(clash), 'ID_DUPLICATE').find((i) => i.message.includes('has the id of'));
    expect(clashIssue).toMatchObject({
      path: REQ,
      line: lineOf(clash[REQ]!, '### REQ-AUTH-001: Log out'),
      message: `requirement REQ-AUTH-001 has the id of ${REQ}`,
      fix: 'give the requirement item an id with an area word (REQ-<FEATURE>-<AREA>-NNN)',
    });
  });

  it('PARENT_MISMATCH, DEP_ASYMMETRIC and DEP_CYCLE say what to change', () => {
    const parent = edit(validTree(), K2, 'tasks: []', 'tasks: [TSK-002]');
    expect(only(parent, 'PARENT_MISMATCH', K2)).toMatchObject({
      message: 'ticket TKT-002 lists task TSK-002, whose parent_ticket is TKT-001',
      fix: 'remove TSK-002 from tasks, or set its parent_ticket to TKT-002',
    });
    // A listed task whose parent is unknown is REF_MISSING on the task, not a mismatch here.
    const orphan = edit(
      edit(validTree(), K2, 'tasks: []', 'tasks: [TSK-002]'),
      T2,
      'parent_ticket: TKT-001',
      'parent_ticket: TKT-404',
    );
    expect(find(check(orphan), 'PARENT_MISMATCH')).toEqual([]);

    const noMirror = edit(validTree(), T1, 'blocks: [TSK-002, TSK-003]', 'blocks: [TSK-003]');
    expect(only(noMirror, 'DEP_ASYMMETRIC', T2)).toMatchObject({
      message: 'TSK-002 depends on TSK-001, but TSK-001 does not list TSK-002 in blocks',
      fix: 'add TSK-002 to dependencies.blocks of TSK-001',
      line: lineOf(noMirror[T2]!, 'TSK-001'),
    });
    const extra = edit(validTree(), T2, 'blocks: []', 'blocks: [TSK-003]');
    expect(only(extra, 'DEP_ASYMMETRIC', T2)).toMatchObject({
      message: 'TSK-002 blocks TSK-003, but TSK-003 does not list TSK-002 in depends_on',
      fix: 'add TSK-002 to dependencies.depends_on of TSK-003',
    });
    const tickets = edit(validTree(), K1, /blocks:\n {4}- TKT-002/, 'blocks: []');
    expect(only(tickets, 'DEP_ASYMMETRIC', K2)).toMatchObject({
      message: 'TKT-002 blocked by TKT-001, but TKT-001 does not list TKT-002 in blocks',
      fix: 'add TKT-002 to dependencies.blocks of TKT-001',
    });

    let cycle = edit(validTree(), T1, 'depends_on: []', 'depends_on: [TSK-002]');
    cycle = edit(cycle, T2, 'blocks: []', 'blocks: [TSK-001]');
    expect(only(cycle, 'DEP_CYCLE', T1).fix).toBe('remove one depends_on link of the cycle');
    // A file whose id another file already took is left out of the graph (reported as a duplicate).
    const copy = { ...cycle, '.omoi_os/tasks/TSK-001-copy.md': cycle[T1]! };
    expect(find(check(copy), 'DEP_CYCLE')).toHaveLength(1);
  });
});

describe('the report', () => {
  it('orders issues on one line by code, counts only files it read, and lists skipped templates in order', () => {
    const tree: Tree = {
      ...validTree(),
      '.omoi_os/tasks/templates/task.md': '---\nid: x\n---\n',
      '.omoi_os/tickets/ticket-template.md': '---\nid: y\n---\n',
      '.omoi_os/tasks/TSK-009.md': 'no frontmatter here\n',
    };
    const report = check(tree);
    expect(report.skipped).toEqual([
      '.omoi_os/tasks/task-template.md',
      '.omoi_os/tasks/templates/task.md',
      '.omoi_os/tickets/ticket-template.md',
    ]);
    // Templates are not read: only TSK-009 is counted beyond the valid tree's files.
    expect(report.summary.files).toBe(check(validTree()).summary.files + 1);
    expect(report.summary.errors).toBe(report.issues.filter((i) => i.level === 'error').length);
    expect(report.summary.warnings).toBe(report.issues.length - report.summary.errors);
    const sorted = [...report.issues].sort(
      (a, b) =>
        a.path.localeCompare(b.path) ||
        (a.line ?? 0) - (b.line ?? 0) ||
        (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
    );
    expect(report.issues).toEqual(sorted);

    // Same path, same line, different codes: sorted by code.
    const both = edit(
      edit(validTree(), T2, 'depends_on: [TSK-001]', 'depends_on: [TSK-404]'),
      T2,
      '  blocks: []',
      '  blocks: []\n  after: []',
    );
    const onT2 = check(both).issues.filter((i) => i.path === T2);
    expect(onT2.map((i) => i.code)).toEqual(
      [...onT2]
        .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
        .map((i) => i.code),
    );
  });

  it('an empty set is DIR_MISSING with what to create; files that are all ignored are too', () => {
    for (const files of [[], toFiles({ '.omoi_os/tasks/templates/task.md': '---\nid: x\n---\n' })]) {
      const report = validateSpecFiles(files);
      expect(report.valid).toBe(false);
      expect(report.issues).toEqual([
        expect.objectContaining({
          code: 'DIR_MISSING',
          path: '.omoi_os',
          line: null,
          message: 'no spec file found: .omoi_os/ is missing or holds no spec file',
          fix: 'create .omoi_os/tickets/TKT-001.md (see docs/spec-format.md)',
        }),
      ]);
    }
    // Markdown that is read but is no spec (free-form docs) does not make a spec tree.
    expect(
      find(validateSpecFiles(toFiles({ '.omoi_os/docs/notes.md': '# Notes\n' })), 'DIR_MISSING'),
    ).toHaveLength(1);
    // A file with no usable id takes part in no cross-file rule (and does not crash them).
    const noId = edit(validTree(), T2, 'id: TSK-002\n', "id: ''\n");
    expect(() => check(noId)).not.toThrow();
    expect(find(check(noId), 'ID_DUPLICATE')).toEqual([]);
  });
});

describe('validateSpecDir', () => {
  it('reports a missing folder, names another tool’s layout and its import command, and reads a real tree', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'omoi-validate-'));
    const none = await validateSpecDir(empty);
    expect(none).toMatchObject({ valid: false, summary: { files: 0, errors: 1, warnings: 0 }, skipped: [] });
    expect(none.issues[0]).toMatchObject({
      code: 'DIR_MISSING',
      message: `there is no .omoi_os/ folder in ${empty}`,
      fix: 'create .omoi_os/tickets/TKT-001.md (see docs/spec-format.md)',
    });

    const kiro = mkdtempSync(join(tmpdir(), 'omoi-validate-'));
    mkdirSync(join(kiro, '.kiro', 'specs', 'login'), { recursive: true });
    writeFileSync(join(kiro, '.kiro', 'specs', 'login', 'requirements.md'), '# Requirements\n');
    const foreign = await validateSpecDir(kiro);
    expect(foreign.issues).toHaveLength(1);
    expect(foreign.issues[0]!.message).toMatch(/but there is a Kiro layout in .*: import it with `/);
    expect(foreign.issues[0]!.fix).toMatch(/^run `.+` to convert it into \.omoi_os\/$/);

    // A file where the folder should be is no folder.
    const file = mkdtempSync(join(tmpdir(), 'omoi-validate-'));
    writeFileSync(join(file, '.omoi_os'), 'not a folder');
    expect((await validateSpecDir(file)).issues[0]?.code).toBe('DIR_MISSING');

    const real = mkdtempSync(join(tmpdir(), 'omoi-validate-'));
    for (const [path, content] of Object.entries(validTree())) {
      mkdirSync(join(real, path, '..'), { recursive: true });
      writeFileSync(join(real, path), content);
    }
    const report = await validateSpecDir(real, { strict: true });
    expect(report).toMatchObject({ valid: true, issues: [] });
    expect(report.summary).toEqual(check(validTree()).summary);
  });
});
