// Approval's pure parts: the plan (dependency order, what each task waits for, the 409s and the
// cycle) and the context a task's agent gets. test/exec/approval.test.ts and
// test/api/approval-contract.test.ts run approval through the real server and database.
import { describe, expect, it } from 'vitest';
import { buildTaskContext, renderSpecDocument, resolvePlan } from './approval.js';

type Doc = Parameters<typeof buildTaskContext>[0];

const doc = (
  kind: string,
  specId: string,
  frontmatter: Record<string, unknown>,
  body = '',
  extra: Partial<Doc> = {},
): Doc => ({
  id: `row-${specId}`,
  spec_id: specId,
  kind,
  path: `.omoi_os/${kind === 'requirements' ? 'requirements' : kind === 'design' ? 'designs' : `${kind}s`}/${specId}.md`,
  ticket_id: 'ticket-1',
  title: (frontmatter.title as string | undefined) ?? specId,
  frontmatter: { id: specId, title: `${specId} title`, ...frontmatter },
  body,
  items: null,
  ...extra,
});

const task = (id: string, parent: string, dependsOn: string[] = [], more: Record<string, unknown> = {}) =>
  doc('task', id, {
    status: 'todo',
    parent_ticket: parent,
    estimate: 'S',
    type: 'implementation',
    dependencies: { depends_on: dependsOn, blocks: [] },
    ...more,
  });
const ticket = (id: string, blockedBy: string[] = [], more: Record<string, unknown> = {}) =>
  doc('ticket', id, {
    status: 'backlog',
    priority: 'HIGH',
    estimate: 'M',
    dependencies: { blocked_by: blockedBy, blocks: [] },
    ...more,
  });

/** The code and message `fn` throws. */
function thrown(fn: () => unknown): { code: string; message: string; issues?: unknown } {
  try {
    fn();
  } catch (error) {
    const e = error as { code: string; message: string; issues?: unknown };
    return { code: e.code, message: e.message, issues: e.issues };
  }
  throw new Error('nothing thrown');
}

describe('resolvePlan', () => {
  it('orders the tasks dependencies first and says which of its own tasks each waits for', () => {
    const a = task('TSK-001', 'TKT-001');
    const b = task('TSK-002', 'TKT-001', ['TSK-001']);
    const c = task('TSK-003', 'TKT-001', ['TSK-002', 'TSK-001']);
    const plan = resolvePlan('TKT-001', [ticket('TKT-001'), c, b, a], [c, b, a], new Map());
    expect(plan.map((p) => p.spec.spec_id)).toEqual(['TSK-001', 'TSK-002', 'TSK-003']);
    expect(plan.map((p) => [...p.local].sort())).toEqual([[], ['TSK-001'], ['TSK-001', 'TSK-002']]);
    expect(plan.every((p) => p.external.length === 0)).toBe(true);
  });

  it('waits for a task an earlier approval created, by its task id', () => {
    const done = task('TSK-009', 'TKT-000');
    const mine = task('TSK-010', 'TKT-001', ['TSK-009']);
    const plan = resolvePlan(
      'TKT-001',
      [ticket('TKT-001'), done, mine],
      [mine],
      new Map([['TSK-009', 'task-uuid-9']]),
    );
    expect(plan).toHaveLength(1);
    expect(plan[0]!.local).toEqual([]);
    expect(plan[0]!.external).toEqual(['task-uuid-9']);
  });

  it("makes every task of a blocked ticket wait for the blocking ticket's tasks", () => {
    const blocker = ticket('TKT-001');
    const blocked = ticket('TKT-002', ['TKT-001']);
    const first = task('TSK-001', 'TKT-001');
    const second = task('TSK-002', 'TKT-001');
    const later = task('TSK-003', 'TKT-002');
    const project = [blocker, blocked, first, second, later];
    // approving both tickets' tasks at once: local edges
    const together = resolvePlan('TKT-002', project, [later, first, second], new Map());
    expect(together.at(-1)!.spec.spec_id).toBe('TSK-003');
    expect([...together.at(-1)!.local].sort()).toEqual(['TSK-001', 'TSK-002']);
    // the blocking ticket approved before: its created tasks
    const after = resolvePlan(
      'TKT-002',
      project,
      [later],
      new Map([
        ['TSK-001', 'uuid-1'],
        ['TSK-002', 'uuid-2'],
      ]),
    );
    expect([...after[0]!.external].sort()).toEqual(['uuid-1', 'uuid-2']);
  });

  it('lets a blocking ticket without tasks block nothing, and ignores a task naming itself', () => {
    const project = [
      ticket('TKT-001'),
      ticket('TKT-002', ['TKT-001']),
      task('TSK-005', 'TKT-002', ['TSK-005']),
    ];
    const plan = resolvePlan('TKT-002', project, [project[2]!], new Map());
    expect(plan).toEqual([{ spec: project[2], local: [], external: [] }]);
  });

  it('answers 409 naming each dependency it cannot resolve, with an issue per dependency', () => {
    const lost = task('TSK-001', 'TKT-001', ['TSK-404']);
    const blocked = ticket('TKT-001', ['TKT-002']);
    const blockerTask = task('TSK-020', 'TKT-002');
    const error = thrown(() =>
      resolvePlan('TKT-001', [blocked, ticket('TKT-002'), lost, blockerTask], [lost], new Map()),
    );
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe(
      'cannot approve TKT-001: TSK-001 depends on TSK-404, which is neither in this spec nor an approved task of the project; ' +
        'TSK-001 (ticket TKT-001 is blocked by TKT-002) waits for TSK-020, which is neither in this spec nor an approved task of the project',
    );
    expect(error.issues).toEqual([
      {
        path: ['dependencies'],
        message:
          'TSK-001 depends on TSK-404, which is neither in this spec nor an approved task of the project',
      },
      {
        path: ['dependencies'],
        message:
          'TSK-001 (ticket TKT-001 is blocked by TKT-002) waits for TSK-020, which is neither in this spec nor an approved task of the project',
      },
    ]);
  });

  it('names at most five unresolvable dependencies in the message, every one in the issues', () => {
    const many = task('TSK-001', 'TKT-001', ['X-1', 'X-2', 'X-3', 'X-4', 'X-5', 'X-6', 'X-7']);
    const error = thrown(() => resolvePlan('TKT-001', [ticket('TKT-001'), many], [many], new Map()));
    expect(error.message.match(/depends on X-/g)).toHaveLength(5);
    expect(error.issues).toHaveLength(7);
  });

  it('plans a task whose spec ticket is not stored, without waiting for anything', () => {
    const stray = task('TSK-030', 'TKT-404');
    expect(resolvePlan('TKT-001', [stray], [stray], new Map())).toEqual([
      { spec: stray, local: [], external: [] },
    ]);
  });

  it('refuses a cycle, naming it', () => {
    const a = task('TSK-001', 'TKT-001', ['TSK-002']);
    const b = task('TSK-002', 'TKT-001', ['TSK-001']);
    const error = thrown(() => resolvePlan('TKT-001', [ticket('TKT-001'), a, b], [a, b], new Map()));
    expect(error.code).toBe('DEPENDENCY_CYCLE');
    expect(error.message).toMatch(
      /^cannot approve TKT-001: these spec tasks form a cycle: TSK-00\d -> TSK-00\d/,
    );
  });
});

describe('renderSpecDocument', () => {
  it('writes the frontmatter back as YAML between fences, then the body', () => {
    expect(renderSpecDocument({ frontmatter: { id: 'TSK-1', tags: ['a'] }, body: '# T\n' })).toBe(
      '---\nid: TSK-1\ntags:\n  - a\n---\n# T\n',
    );
  });
});

describe('buildTaskContext', () => {
  const requirements = doc('requirements', 'REQ-EXPORT-001', {}, '', {
    items: [
      {
        id: 'REQ-EXPORT-CSV-001',
        title: 'CSV export',
        ears: 'WHEN asked THE SYSTEM SHALL export CSV',
        criteria: [
          { text: 'has a header', done: true },
          { text: 'streams', done: false },
        ],
      },
      { id: 'REQ-EXPORT-CSV-002', title: 'Filters', ears: null, criteria: [] },
    ],
  });
  const design = doc(
    'design',
    'DESIGN-EXPORT-001',
    { requirements: ['REQ-EXPORT-CSV-001'] },
    '# Export design\n\n## Streaming\nRows go out as read.\n',
  );
  const other = doc('design', 'DESIGN-OTHER-001', { requirements: ['REQ-OTHER-001'] }, 'Other design', {
    ticket_id: 'ticket-9',
  });

  it("carries the task's spec, its ticket, the requirements it addresses and the design, headings nested", () => {
    const parent = ticket('TKT-001', [], { requirements: ['REQ-EXPORT-CSV-001'] });
    const mine = task('TSK-001', 'TKT-001', [], { requirements: ['REQ-EXPORT-CSV-001'] });
    const text = buildTaskContext(mine, [parent, mine, requirements, design, other], 'TKT-007');
    expect(text.split('\n').slice(0, 2)).toEqual([
      'Implement spec task TSK-001 of ticket TKT-007 (spec ticket TKT-001): TSK-001.',
      'The spec files are in the repository under .omoi_os/; this branch starts from the spec branch omoi/TKT-007.',
    ]);
    expect(text).toContain('### Task spec: .omoi_os/tasks/TSK-001.md');
    expect(text).toContain('### Ticket: .omoi_os/tickets/TKT-001.md');
    expect(text).toContain(
      '### REQ-EXPORT-CSV-001: CSV export (.omoi_os/requirements/REQ-EXPORT-001.md)\nWHEN asked THE SYSTEM SHALL export CSV\n- [x] has a header\n- [ ] streams',
    );
    expect(text).not.toContain('REQ-EXPORT-CSV-002: Filters');
    // the design matched by requirement, its headings two levels down; not the unrelated one
    expect(text).toContain(
      '### Design: .omoi_os/designs/DESIGN-EXPORT-001.md\n\n### Export design\n\n#### Streaming',
    );
    expect(text).not.toContain('Other design');
  });

  it("takes the ticket's requirements when the task names none, and the ticket's design_ref first", () => {
    const parent = ticket('TKT-001', [], {
      requirements: ['REQ-EXPORT-CSV-002'],
      design_ref: 'designs/DESIGN-OTHER-001.md',
    });
    const mine = task('TSK-002', 'TKT-001');
    const text = buildTaskContext(mine, [parent, mine, requirements, design, other], 'TKT-007');
    expect(text).toContain('### REQ-EXPORT-CSV-002: Filters (.omoi_os/requirements/REQ-EXPORT-001.md)');
    expect(text).not.toContain('CSV export (');
    expect(text).toContain('Other design');
    expect(text).not.toContain('Export design');
  });

  it("falls back to the designs of the task's own ticket, and names no spec ticket it does not have", () => {
    const orphan = task('TSK-003', '');
    const sameTicket = doc('design', 'DESIGN-SAME-001', { requirements: [] }, 'Same-ticket design');
    const text = buildTaskContext(orphan, [orphan, sameTicket, other], 'TKT-007');
    expect(text.split('\n')[0]).toBe('Implement spec task TSK-003 of ticket TKT-007: TSK-003.');
    // a parent that is named but not in the project: named, but no ticket section
    const named = buildTaskContext(task('TSK-007', 'TKT-404'), [], 'TKT-007');
    expect(named.split('\n')[0]).toBe(
      'Implement spec task TSK-007 of ticket TKT-007 (spec ticket TKT-404): TSK-007.',
    );
    expect(named).not.toContain('### Ticket:');
    expect(text).toContain('Same-ticket design');
    expect(text).not.toContain('Other design');
    expect(text).not.toContain('### Ticket:');
    expect(text).not.toContain('### Requirements it addresses');
  });

  it('leaves headings inside code fences alone', () => {
    const fenced = doc(
      'design',
      'DESIGN-FENCE-001',
      { requirements: [] },
      '# Title\n```md\n# kept\n```\n## After\n',
    );
    const text = buildTaskContext(task('TSK-004', 'TKT-404'), [fenced], 'TKT-007');
    expect(text).toContain('### Title\n```md\n# kept\n```\n#### After');
  });

  it('cuts a context longer than 60,000 characters and says where the rest is', () => {
    const huge = doc('design', 'DESIGN-HUGE-001', { requirements: [] }, 'x'.repeat(70_000));
    const text = buildTaskContext(task('TSK-005', 'TKT-404'), [huge], 'TKT-007');
    expect(text.endsWith('\n\n(context cut at 60000 characters; read the rest under .omoi_os/)')).toBe(true);
    expect(text.length).toBe(
      60_000 + '\n\n(context cut at 60000 characters; read the rest under .omoi_os/)'.length,
    );
    const small = buildTaskContext(task('TSK-006', 'TKT-404'), [], 'TKT-007');
    expect(small).not.toContain('context cut');
  });
  it('writes the whole context in one fixed shape', () => {
    const parent = ticket('TKT-001', [], { design_ref: 'designs/DESIGN-EXPORT-001.md' });
    const mine = doc(
      'task',
      'TSK-008',
      { parent_ticket: 'TKT-001', requirements: ['REQ-EXPORT-CSV-002'] },
      '\n# Filter rows\n\nKeep what the filter keeps.\n\n',
      { title: 'Filter rows' },
    );
    const text = buildTaskContext(mine, [parent, mine, requirements, design], 'TKT-007');
    expect(text).toBe(
      [
        'Implement spec task TSK-008 of ticket TKT-007 (spec ticket TKT-001): Filter rows.',
        'The spec files are in the repository under .omoi_os/; this branch starts from the spec branch omoi/TKT-007.',
        '',
        '### Task spec: .omoi_os/tasks/TSK-008.md',
        '',
        '---\nid: TSK-008\ntitle: TSK-008 title\nparent_ticket: TKT-001\nrequirements:\n  - REQ-EXPORT-CSV-002\n---\n\n### Filter rows\n\nKeep what the filter keeps.',
        '',
        '### Ticket: .omoi_os/tickets/TKT-001.md',
        '',
        renderSpecDocument(parent).trim(),
        '',
        '### Requirements it addresses',
        '',
        '### REQ-EXPORT-CSV-002: Filters (.omoi_os/requirements/REQ-EXPORT-001.md)',
        '',
        '### Design: .omoi_os/designs/DESIGN-EXPORT-001.md',
        '',
        '### Export design\n\n#### Streaming\nRows go out as read.',
      ].join('\n'),
    );
  });

  it("prefers the task's own requirements over its ticket's, and takes a whole requirements document by its id", () => {
    const parent = ticket('TKT-001', [], { requirements: ['REQ-EXPORT-CSV-001'] });
    const own = task('TSK-010', 'TKT-001', [], { requirements: ['REQ-EXPORT-CSV-002'] });
    const text = buildTaskContext(own, [parent, own, requirements], 'TKT-007');
    expect(text).toContain('REQ-EXPORT-CSV-002: Filters');
    expect(text).not.toContain('REQ-EXPORT-CSV-001: CSV export');
    const whole = task('TSK-011', 'TKT-001', [], { requirements: ['REQ-EXPORT-001'] });
    const both = buildTaskContext(whole, [whole, requirements], 'TKT-007');
    expect(both).toContain('REQ-EXPORT-CSV-001: CSV export');
    expect(both).toContain('REQ-EXPORT-CSV-002: Filters');
  });

  it('reads requirement items from requirements documents only, with or without criteria', () => {
    const notRequirements = doc('design', 'DESIGN-ITEMS-001', { requirements: [] }, 'Design with items', {
      items: [{ id: 'REQ-EXPORT-CSV-001', title: 'Impostor', ears: 'SHALL not show', criteria: [] }],
    });
    const bare = doc('requirements', 'REQ-BARE-001', {}, '', {
      items: [{ id: 'REQ-BARE-X-001', title: 'No criteria', ears: 'THE SYSTEM SHALL exist' }],
    });
    const mine = task('TSK-012', '', [], { requirements: ['REQ-EXPORT-CSV-001', 'REQ-BARE-X-001'] });
    const text = buildTaskContext(mine, [mine, notRequirements, bare, requirements], 'TKT-007');
    expect(text).not.toContain('Impostor');
    expect(text).toContain(
      '### REQ-BARE-X-001: No criteria (.omoi_os/requirements/REQ-BARE-001.md)\nTHE SYSTEM SHALL exist',
    );
  });

  it('chooses designs by the requirements they cover: an item, a whole document, any one of several', () => {
    const byDocument = doc(
      'design',
      'DESIGN-DOC-001',
      { requirements: ['REQ-EXPORT-001'] },
      'Design for the document',
    );
    const byOneOfMany = doc(
      'design',
      'DESIGN-MANY-001',
      { requirements: ['REQ-ELSE-001', 'REQ-EXPORT-CSV-002'] },
      'Design for many',
    );
    const notADesign = doc(
      'requirements',
      'REQ-LOOKALIKE-001',
      { requirements: ['REQ-EXPORT-CSV-002'] },
      'Requirements lookalike',
    );
    const mine = task('TSK-013', '', [], { requirements: ['REQ-EXPORT-CSV-002'] });
    const text = buildTaskContext(
      mine,
      [mine, requirements, byDocument, byOneOfMany, notADesign, other],
      'TKT-007',
    );
    // the item is in REQ-EXPORT-001, so a design of that document counts
    expect(text).toContain('Design for the document');
    expect(text).toContain('Design for many');
    expect(text).not.toContain('Requirements lookalike');
    expect(text).not.toContain('Other design');
    // a design_ref that names no stored design falls back to the same choice
    const parent = ticket('TKT-001', [], { design_ref: 'designs/missing.md' });
    const child = task('TSK-014', 'TKT-001', [], { requirements: ['REQ-EXPORT-CSV-002'] });
    expect(buildTaskContext(child, [parent, child, requirements, byOneOfMany], 'TKT-007')).toContain(
      'Design for many',
    );
    // a design_ref that is not text is no reference
    const odd = ticket('TKT-002', [], { design_ref: 7 });
    const oddChild = task('TSK-015', 'TKT-002', [], { requirements: ['REQ-EXPORT-CSV-002'] });
    expect(buildTaskContext(oddChild, [odd, oddChild, requirements, byOneOfMany], 'TKT-007')).toContain(
      'Design for many',
    );
  });

  it("falls back to its own ticket's designs only, not to other documents of that ticket", () => {
    const sibling = doc('task', 'TSK-099', { parent_ticket: '' }, 'A sibling task body');
    const mine = task('TSK-016', '');
    const text = buildTaskContext(mine, [mine, sibling], 'TKT-007');
    expect(text).not.toContain('A sibling task body');
    expect(text).not.toContain('### Design:');
  });

  it('nests only headings of one to four hashes at the start of a line, fences toggled from the line start', () => {
    const body = [
      '# One',
      '#### Four',
      '##### Five',
      'see # this',
      'not a ``` fence',
      '# Still nested',
      '  ```',
      '# in fence',
      '```',
      '## After',
    ].join('\n');
    const fenced = doc('design', 'DESIGN-NEST-001', { requirements: [] }, body);
    const text = buildTaskContext(task('TSK-017', ''), [fenced], 'TKT-007');
    expect(text.split('### Design: .omoi_os/designs/DESIGN-NEST-001.md\n\n')[1]).toBe(
      [
        '### One',
        '###### Four',
        '##### Five',
        'see # this',
        'not a ``` fence',
        '### Still nested',
        '  ```',
        '# in fence',
        '```',
        '#### After',
      ].join('\n'),
    );
  });

  it('keeps a context of exactly 60,000 characters whole', () => {
    const base = buildTaskContext(
      task('TSK-018', ''),
      [doc('design', 'DESIGN-EXACT-001', { requirements: [] }, 'x')],
      'TKT-007',
    );
    const exact = 'x'.repeat(60_000 - base.length + 1);
    const text = buildTaskContext(
      task('TSK-018', ''),
      [doc('design', 'DESIGN-EXACT-001', { requirements: [] }, exact)],
      'TKT-007',
    );
    expect(text.length).toBe(60_000);
    expect(text).not.toContain('context cut');
  });
});
