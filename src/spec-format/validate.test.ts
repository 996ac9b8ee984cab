import { describe, expect, it } from 'vitest';
import {
  codes,
  edit,
  find,
  largeTree,
  lineOf,
  type Tree,
  toFiles,
  validTree,
} from '../../test/spec-format/tree.js';
import { buildSpecGraph } from './graph.js';
import type { IssueCode } from './types.js';
import { validateSpecFiles } from './validate.js';

const T1 = '.omoi_os/tasks/TSK-001.md';
const T2 = '.omoi_os/tasks/TSK-002.md';
const K1 = '.omoi_os/tickets/TKT-001.md';
const K2 = '.omoi_os/tickets/TKT-002.md';
const REQ = '.omoi_os/requirements/auth.md';
const DESIGN = '.omoi_os/designs/auth.md';

function check(tree: Tree) {
  return validateSpecFiles(toFiles(tree));
}

/** Asserts that the tree reports `code` on `path` at `line`, and returns that issue. */
function expectIssue(tree: Tree, code: IssueCode, path: string, line: number | null) {
  const report = check(tree);
  const hits = find(report, code);
  expect(hits, `${code} in ${JSON.stringify(report.issues, null, 1)}`).toContainEqual(
    expect.objectContaining({ code, path, line }),
  );
  return { report, issue: hits.find((i) => i.path === path && i.line === line)! };
}

describe('the valid base tree', () => {
  it('has no issue, counts the spec files and parses every document', () => {
    const report = check(validTree());
    expect(report.issues).toEqual([]);
    expect(report.valid).toBe(true);
    // Template, PNG and free-form docs are ignored: 8 spec files remain.
    expect(report.summary).toEqual({ files: 8, errors: 0, warnings: 0 });
    expect(report.documents.map((d) => d.kind).sort()).toEqual([
      'design',
      'prd',
      'requirements',
      'task',
      'task',
      'task',
      'ticket',
      'ticket',
    ]);
  });

  it('reads requirement items, refs and a content hash', () => {
    const report = check(validTree());
    const req = report.documents.find((d) => d.kind === 'requirements')!;
    expect(req.items).toEqual([
      {
        id: 'REQ-AUTH-LOGIN-001',
        title: 'Log in with a password',
        line: lineOf(validTree()[REQ]!, '### REQ-AUTH-LOGIN-001'),
        ears: 'WHEN a user submits a correct email and password THE SYSTEM SHALL start a session.',
        criteria: [
          { text: 'A session cookie is set', done: false },
          { text: 'A wrong password gives a clear error', done: true },
        ],
      },
      expect.objectContaining({ id: 'REQ-AUTH-LOGIN-002', ears: expect.stringMatching(/^THE SYSTEM SHALL/) }),
    ]);
    const task = report.documents.find((d) => d.id === 'TSK-002')!;
    expect(task.refs).toEqual({
      parentTicket: 'TKT-001',
      dependsOn: ['TSK-001'],
      blocks: [],
      blockedBy: [],
      related: [],
      tasks: [],
      requirements: ['REQ-AUTH-LOGIN-001'],
    });
    expect(task.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(task.body).toContain('## Objective');
    const ticket = report.documents.find((d) => d.id === 'TKT-001')!;
    expect(ticket.refs).toMatchObject({
      designRef: 'designs/auth.md',
      tasks: ['TSK-001', 'TSK-002', 'TSK-003'],
    });
  });

  it('accepts a byte-order mark, CRLF line endings and bytes instead of a string', () => {
    const tree = validTree();
    const files = toFiles(tree).map((f, i) => {
      const text = `\uFEFF${f.content}`.replace(/\n/g, '\r\n');
      return { path: f.path, content: i % 2 === 0 ? text : new TextEncoder().encode(text) };
    });
    const report = validateSpecFiles(files);
    expect(report.issues).toEqual([]);
    const line = find(
      validateSpecFiles(
        files.map((f) =>
          f.path === T1 ? { ...f, content: String(f.content).replace('status: pending', 'status: nope') } : f,
        ),
      ),
      'ENUM_INVALID',
    )[0];
    expect(line?.line).toBe(lineOf(tree[T1]!, 'status:'));
  });
});

describe('a large generated tree', () => {
  it('40 tickets with 10 tasks each is valid, and its graph orders every dependency first', () => {
    const report = check(largeTree(40, 10));
    expect(report.issues).toEqual([]);
    expect(report.summary.files).toBe(8 + 40 + 400);
    const graph = buildSpecGraph(report.documents);
    expect(graph.order).toHaveLength(403);
    const at = new Map(graph.order.map((id, i) => [id, i]));
    for (const task of graph.tasks.values())
      for (const dep of task.dependsOn) expect(at.get(dep)!).toBeLessThan(at.get(task.id)!);
    expect(graph.ticketOrder.slice(0, 3)).toEqual(['TKT-001', 'TKT-002', 'TKT-BIG-001']);
    // Status cycles done/pending/pending: task 2 waits on task 1 (done), task 4 on 2 and 3 (pending).
    expect(graph.ready).toContain('TSK-BIG-002');
    expect(graph.ready).not.toContain('TSK-BIG-004');
  });
});

describe('one case per code', () => {
  it('DIR_MISSING: no files, or only ignored ones', () => {
    for (const files of [[], [{ path: '.omoi_os/docs/notes.md', content: '# notes' }]]) {
      const report = validateSpecFiles(files);
      expect(report.valid).toBe(false);
      expect(report.issues).toEqual([
        expect.objectContaining({ code: 'DIR_MISSING', path: '.omoi_os', line: null }),
      ]);
    }
  });

  it('FRONTMATTER_MISSING: no opening line, or a block never closed', () => {
    expectIssue(
      { ...validTree(), [T1]: '# Just a heading\n\nstatus: pending\n' },
      'FRONTMATTER_MISSING',
      T1,
      1,
    );
    const { issue } = expectIssue(
      { ...validTree(), [T1]: '---\nid: TSK-001\ntitle: x\n\n# body\n' },
      'FRONTMATTER_MISSING',
      T1,
      1,
    );
    expect(issue.message).toMatch(/never closed/);
  });

  it('YAML_INVALID: a syntax error, a repeated key, a list instead of a mapping', () => {
    const broken = edit(validTree(), T1, 'title: Task TSK-001', 'title: [unclosed');
    expectIssue(broken, 'YAML_INVALID', T1, lineOf(broken[T1]!, 'status:'));
    const repeated = edit(validTree(), T1, 'estimate: S', 'estimate: S\nstatus: done');
    expectIssue(repeated, 'YAML_INVALID', T1, lineOf(repeated[T1]!, 'status: done'));
    expectIssue({ ...validTree(), [T1]: '---\n- a\n- b\n---\nbody\n' }, 'YAML_INVALID', T1, 2);
  });

  it('FIELD_MISSING: an absent field (line 1) and an empty one (its line)', () => {
    const absent = edit(validTree(), T1, 'estimate: S\n', '');
    const { issue } = expectIssue(absent, 'FIELD_MISSING', T1, 1);
    expect(issue.message).toContain("'estimate'");
    const empty = edit(validTree(), K1, 'title: Password login', 'title: ""');
    expectIssue(empty, 'FIELD_MISSING', K1, lineOf(empty[K1]!, 'title:'));
    const emptyList = edit(
      validTree(),
      DESIGN,
      /requirements:\n {2}- REQ-AUTH-LOGIN-001\n {2}- REQ-AUTH-LOGIN-002/,
      'requirements: []',
    );
    expectIssue(emptyList, 'FIELD_MISSING', DESIGN, lineOf(emptyList[DESIGN]!, 'requirements:'));
  });

  it('FIELD_TYPE: a list for a string, a string for a list, a number in an id list', () => {
    const list = edit(validTree(), T1, 'title: Task TSK-001', 'title: [a, b]');
    expectIssue(list, 'FIELD_TYPE', T1, lineOf(list[T1]!, 'title:'));
    const single = edit(
      validTree(),
      K1,
      /requirements:\n {2}- REQ-AUTH-LOGIN-001/,
      'requirements: REQ-AUTH-LOGIN-001',
    );
    expectIssue(single, 'FIELD_TYPE', K1, lineOf(single[K1]!, 'requirements:'));
    const dep = edit(validTree(), T2, 'depends_on: [TSK-001]', 'depends_on: TSK-001');
    expectIssue(dep, 'FIELD_TYPE', T2, lineOf(dep[T2]!, 'depends_on:'));
    const item = edit(validTree(), K1, '  - TSK-003', '  - 42');
    expectIssue(item, 'FIELD_TYPE', K1, lineOf(item[K1]!, '  - 42'));
    const date = edit(validTree(), T1, 'created: 2026-11-01', 'created: 20261101');
    expectIssue(date, 'FIELD_TYPE', T1, lineOf(date[T1]!, 'created:'));
    const deps = edit(validTree(), T2, /dependencies:\n.*\n.*\n/, 'dependencies: [TSK-001]\n');
    expectIssue(deps, 'FIELD_TYPE', T2, lineOf(deps[T2]!, 'dependencies:'));
  });

  it('ENUM_INVALID: lists the allowed values and suggests the right case', () => {
    const bad = edit(validTree(), T1, 'status: pending', 'status: doing');
    const { issue } = expectIssue(bad, 'ENUM_INVALID', T1, lineOf(bad[T1]!, 'status:'));
    expect(issue.message).toContain('pending, in_progress, review, done, blocked');
    const lower = edit(validTree(), K1, 'priority: HIGH', 'priority: high');
    expect(expectIssue(lower, 'ENUM_INVALID', K1, lineOf(lower[K1]!, 'priority:')).issue.fix).toBe(
      "use 'HIGH'",
    );
    const category = edit(validTree(), REQ, 'category: functional', 'category: nice-to-have');
    expectIssue(category, 'ENUM_INVALID', REQ, lineOf(category[REQ]!, 'category:'));
  });

  it('DATE_INVALID: a date that does not exist, or another shape', () => {
    const feb = edit(validTree(), T1, 'created: 2026-11-01', 'created: 2026-02-30');
    expectIssue(feb, 'DATE_INVALID', T1, lineOf(feb[T1]!, 'created:'));
    const shape = edit(validTree(), K1, 'updated: 2026-11-02', 'updated: 2026-1-5');
    expectIssue(shape, 'DATE_INVALID', K1, lineOf(shape[K1]!, 'updated:'));
    // 2028 is a leap year.
    expect(codes(check(edit(validTree(), T1, 'created: 2026-11-01', 'created: 2028-02-29')))).toEqual([]);
  });

  it('ID_FORMAT: a file id and a requirement item id', () => {
    const tree = validTree();
    const { [T1]: t1, ...rest } = tree;
    const renamed = { ...rest, '.omoi_os/tasks/TSK-1.md': t1!.replace('id: TSK-001', 'id: TSK-1') };
    expectIssue(renamed, 'ID_FORMAT', '.omoi_os/tasks/TSK-1.md', lineOf(t1!, 'id:'));
    const lower = edit(validTree(), DESIGN, 'id: DESIGN-AUTH-001', 'id: design-auth-1');
    expectIssue(lower, 'ID_FORMAT', DESIGN, 2);
    const item = edit(validTree(), REQ, '### REQ-AUTH-LOGIN-002: Log out', '### REQ-AUTH-2: Log out');
    expectIssue(item, 'ID_FORMAT', REQ, lineOf(item[REQ]!, '### REQ-AUTH-2'));
    const prefixed = edit(
      edit(validTree(), K2, 'id: TKT-002', 'id: TKT-WEB-002'),
      K1,
      '    - TKT-002',
      '    - TKT-WEB-002',
    );
    const { [K2]: k2, ...others } = prefixed;
    const ok = check({ ...others, '.omoi_os/tickets/TKT-WEB-002.md': k2! });
    expect(find(ok, 'ID_FORMAT')).toEqual([]);
  });

  it('ID_DUPLICATE: two files with one id (reported on the later path), two items with one id', () => {
    const tree = { ...validTree(), '.omoi_os/requirements/zz-copy.md': validTree()[REQ]! };
    const { issue } = expectIssue(tree, 'ID_DUPLICATE', '.omoi_os/requirements/zz-copy.md', 2);
    expect(issue.message).toContain(REQ);
    // The copy also repeats both requirement items.
    expect(find(check(tree), 'ID_DUPLICATE')).toHaveLength(3);
    const item = edit(validTree(), REQ, '### REQ-AUTH-LOGIN-002: Log out', '### REQ-AUTH-LOGIN-001: Log out');
    expectIssue(item, 'ID_DUPLICATE', REQ, lineOf(item[REQ]!, '### REQ-AUTH-LOGIN-001: Log out'));
  });

  it('FILENAME_MISMATCH: a task whose file is neither <id>.md nor <id>-<slug>.md', () => {
    const { [T2]: t2, ...rest } = validTree();
    const tree = { ...rest, '.omoi_os/tasks/TSK-003-login.md': t2! };
    const { issue } = expectIssue(tree, 'FILENAME_MISMATCH', '.omoi_os/tasks/TSK-003-login.md', 2);
    expect(issue.message).toContain('TSK-002.md');
    const bare = { ...rest, '.omoi_os/tasks/TSK-002login.md': t2! };
    expectIssue(bare, 'FILENAME_MISMATCH', '.omoi_os/tasks/TSK-002login.md', 2);
  });

  it('REF_MISSING: unknown task, ticket, requirement and path', () => {
    const dep = edit(validTree(), T2, 'depends_on: [TSK-001]', 'depends_on:\n    - TSK-001\n    - TSK-404');
    expectIssue(dep, 'REF_MISSING', T2, lineOf(dep[T2]!, 'TSK-404'));
    const parent = edit(validTree(), T2, 'parent_ticket: TKT-001', 'parent_ticket: TKT-404');
    expectIssue(parent, 'REF_MISSING', T2, lineOf(parent[T2]!, 'parent_ticket:'));
    const req = edit(validTree(), T2, '  - REQ-AUTH-LOGIN-001', '  - REQ-AUTH-LOGIN-999');
    expectIssue(req, 'REF_MISSING', T2, lineOf(req[T2]!, 'REQ-AUTH-LOGIN-999'));
    const path = edit(validTree(), K1, 'design_ref: designs/auth.md', 'design_ref: designs/nope.md');
    expectIssue(path, 'REF_MISSING', K1, lineOf(path[K1]!, 'design_ref:'));
    const task = edit(validTree(), K1, '  - TSK-003', '  - TSK-003\n  - TSK-404');
    expectIssue(task, 'REF_MISSING', K1, lineOf(task[K1]!, 'TSK-404'));
    const related = edit(validTree(), K2, 'related: [TKT-001]', 'related: [TKT-404]');
    expectIssue(related, 'REF_MISSING', K2, lineOf(related[K2]!, 'related:'));
    // `blocks` is a reference too, on tasks and on tickets.
    const taskBlocks = edit(validTree(), T1, '  blocks: [', '  blocks: [TSK-404, ');
    expectIssue(taskBlocks, 'REF_MISSING', T1, lineOf(taskBlocks[T1]!, 'TSK-404'));
    const ticketBlocks = edit(validTree(), K1, '    - TKT-002', '    - TKT-002\n    - TKT-404');
    expectIssue(ticketBlocks, 'REF_MISSING', K1, lineOf(ticketBlocks[K1]!, 'TKT-404'));
    // A requirements-document id is a valid requirement reference (TKT-002 uses REQ-AUTH-001).
    expect(find(check(validTree()), 'REF_MISSING')).toEqual([]);
  });

  it('PARENT_MISMATCH: a ticket lists a task of another ticket', () => {
    const tree = edit(validTree(), K2, 'tasks: []', 'tasks: [TSK-002]');
    const { issue } = expectIssue(tree, 'PARENT_MISMATCH', K2, lineOf(tree[K2]!, 'tasks:'));
    expect(issue.message).toContain('TKT-001');
  });

  it('DEP_CYCLE: tasks along depends_on and tickets along blocked_by, with the cycle printed', () => {
    let tree = edit(validTree(), T1, 'depends_on: []', 'depends_on: [TSK-002]');
    tree = edit(tree, T2, 'blocks: []', 'blocks: [TSK-001]');
    const { issue } = expectIssue(tree, 'DEP_CYCLE', T1, lineOf(tree[T1]!, 'depends_on:'));
    expect(issue.message).toContain('TSK-001 -> TSK-002 -> TSK-001');
    expect(find(check(tree), 'DEP_CYCLE')).toHaveLength(1);

    let tickets = edit(validTree(), K1, 'blocked_by: []', 'blocked_by: [TKT-002]');
    tickets = edit(tickets, K2, 'blocks: []', 'blocks: [TKT-001]');
    const cycle = expectIssue(tickets, 'DEP_CYCLE', K1, lineOf(tickets[K1]!, 'blocked_by:'));
    expect(cycle.issue.message).toContain('TKT-001 -> TKT-002 -> TKT-001');

    const self = edit(
      edit(validTree(), T1, 'depends_on: []', 'depends_on: [TSK-001]'),
      T1,
      'blocks: [TSK-002, TSK-003]',
      'blocks: [TSK-001, TSK-002, TSK-003]',
    );
    expect(expectIssue(self, 'DEP_CYCLE', T1, lineOf(self[T1]!, 'depends_on:')).issue.message).toContain(
      'TSK-001 -> TSK-001',
    );
  });

  it('EARS_MISSING: a requirement item with no SHALL statement; bold markers are accepted', () => {
    const tree = edit(validTree(), REQ, 'THE SYSTEM SHALL end the session', 'Users can end the session');
    expectIssue(tree, 'EARS_MISSING', REQ, lineOf(tree[REQ]!, '### REQ-AUTH-LOGIN-002'));
    const bold = edit(
      validTree(),
      REQ,
      'THE SYSTEM SHALL end',
      '**WHILE** logged in **the system shall** end',
    );
    expect(find(check(bold), 'EARS_MISSING')).toEqual([]);
    const fenced = edit(
      validTree(),
      REQ,
      'THE SYSTEM SHALL end the session when the user logs out.',
      '```\nTHE SYSTEM SHALL end the session\n```',
    );
    expectIssue(fenced, 'EARS_MISSING', REQ, lineOf(fenced[REQ]!, '### REQ-AUTH-LOGIN-002'));
  });

  it('ITEMS_MISSING: no requirement heading (one inside a code fence does not count)', () => {
    const body =
      '---\n' +
      validTree()[REQ]!.split('---\n')[1] +
      '---\n\n# Nothing\n\n```\n### REQ-AUTH-LOGIN-001: x\nTHE SYSTEM SHALL x\n- [ ] x\n```\n';
    const tree = { ...validTree(), [REQ]: body };
    expectIssue(tree, 'ITEMS_MISSING', REQ, 1);
  });

  it('CRITERIA_MISSING (warning): a requirement item, a ticket and a task without checkboxes', () => {
    const item = edit(validTree(), REQ, '- [ ] The cookie is cleared\n', '');
    const { issue } = expectIssue(
      item,
      'CRITERIA_MISSING',
      REQ,
      lineOf(item[REQ]!, '### REQ-AUTH-LOGIN-002'),
    );
    expect(issue.level).toBe('warning');
    expect(check(item).valid).toBe(true);
    expectIssue(
      edit(validTree(), K2, '- [ ] Users can log out', 'Users can log out'),
      'CRITERIA_MISSING',
      K2,
      1,
    );
    expectIssue(
      edit(validTree(), T1, /- \[ \] It works\n- \[x\] It is tested/, 'Works.'),
      'CRITERIA_MISSING',
      T1,
      1,
    );
  });

  it('SECTION_MISSING (warning): task Objective, ticket Description, design Architecture Overview', () => {
    const task = expectIssue(edit(validTree(), T1, '## Objective', '## Goal'), 'SECTION_MISSING', T1, 1);
    expect(task.issue.level).toBe('warning');
    expectIssue(edit(validTree(), K1, '## Description', '## About'), 'SECTION_MISSING', K1, 1);
    expectIssue(
      edit(validTree(), DESIGN, '## Architecture Overview', '## Overview'),
      'SECTION_MISSING',
      DESIGN,
      1,
    );
  });

  it('FIELD_UNKNOWN (warning): a top-level key and a key under dependencies', () => {
    const top = edit(validTree(), T1, 'estimate: S', 'estimate: S\nowner: bob');
    expectIssue(top, 'FIELD_UNKNOWN', T1, lineOf(top[T1]!, 'owner:'));
    const dep = edit(validTree(), T2, 'blocks: []', 'blocks: []\n  after: [TSK-001]');
    expectIssue(dep, 'FIELD_UNKNOWN', T2, lineOf(dep[T2]!, 'after:'));
    // depends_on belongs to tasks, not tickets.
    const ticket = edit(validTree(), K2, 'related: [TKT-001]', 'related: [TKT-001]\n  depends_on: [TKT-001]');
    expectIssue(ticket, 'FIELD_UNKNOWN', K2, lineOf(ticket[K2]!, 'depends_on:'));
  });

  it('DEP_ASYMMETRIC (warning): a missing blocks mirror, and a blocks with no depends_on', () => {
    const noBlocks = edit(validTree(), T1, 'blocks: [TSK-002, TSK-003]', 'blocks: [TSK-003]');
    const { issue } = expectIssue(noBlocks, 'DEP_ASYMMETRIC', T2, lineOf(noBlocks[T2]!, 'depends_on:'));
    expect(issue.level).toBe('warning');
    const extra = edit(validTree(), T2, 'blocks: []', 'blocks: [TSK-003]');
    expectIssue(extra, 'DEP_ASYMMETRIC', T2, lineOf(extra[T2]!, 'blocks:'));
    const tickets = edit(validTree(), K1, /blocks:\n {4}- TKT-002/, 'blocks: []');
    expectIssue(tickets, 'DEP_ASYMMETRIC', K2, lineOf(tickets[K2]!, '    - TKT-001'));
  });

  it('FILE_UNEXPECTED (warning): Markdown outside the known places; templates and other files are ignored', () => {
    const tree = {
      ...validTree(),
      '.omoi_os/README.md': '# readme',
      '.omoi_os/tasks/old/TSK-009.md': '# old',
      '.omoi_os/notes/x.md': '# x',
      'src/outside.md': '# outside',
      '../escape.md': '# escape',
      '.omoi_os/templates/ticket.md': '# ignored template folder',
      '.omoi_os/tickets/TICKET_TEMPLATE.md': '# ignored template',
      '.omoi_os/tasks/data.json': '{}',
    };
    const report = check(tree);
    expect(find(report, 'FILE_UNEXPECTED').map((i) => [i.path, i.line, i.level])).toEqual([
      ['../escape.md', null, 'warning'],
      ['.omoi_os/README.md', null, 'warning'],
      ['.omoi_os/notes/x.md', null, 'warning'],
      ['.omoi_os/tasks/old/TSK-009.md', null, 'warning'],
      ['src/outside.md', null, 'warning'],
    ]);
    expect(report.valid).toBe(true);
    expect(report.summary).toEqual({ files: 13, errors: 0, warnings: 5 });
  });
});

describe('options and report shape', () => {
  it('--strict reports warnings as errors and makes the tree invalid', () => {
    const tree = edit(validTree(), T1, 'estimate: S', 'estimate: S\nowner: bob');
    expect(check(tree).valid).toBe(true);
    const strict = validateSpecFiles(toFiles(tree), { strict: true });
    expect(strict.valid).toBe(false);
    expect(strict.summary).toMatchObject({ errors: 1, warnings: 0 });
    expect(strict.issues[0]).toMatchObject({ code: 'FIELD_UNKNOWN', level: 'error' });
  });

  it('sorts issues by path, then line, and normalises ./ and backslashes in paths', () => {
    let tree = edit(validTree(), T2, 'status: pending', 'status: nope');
    tree = edit(tree, T1, 'estimate: S', 'estimate: XXL');
    tree = edit(tree, T1, 'status: pending', 'status: nope');
    const files = toFiles(tree).map((f) =>
      f.path === T1 ? { ...f, path: `./${f.path.replace(/\//g, '\\')}` } : f,
    );
    const report = validateSpecFiles(files);
    expect(report.issues.map((i) => [i.path, i.line])).toEqual([
      [T1, lineOf(tree[T1]!, 'status:')],
      [T1, lineOf(tree[T1]!, 'estimate:')],
      [T2, lineOf(tree[T2]!, 'status:')],
    ]);
  });
});
