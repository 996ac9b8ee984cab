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
});
