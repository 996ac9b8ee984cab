// The approval gate: a person (or the project's `auto_approve` setting) turns a ticket's synced spec
// tasks into executable tasks. Spec dependencies name local ids (`TSK-…`); they are resolved here to
// the new task rows, or to tasks an earlier approval created, so every task can become ready. A
// ticket document's `blocked_by` becomes dependencies on the blocking ticket's tasks. Besides the
// spec tasks, every approval creates one integration task that waits for all of them: it merges
// their branches into `omoi/<ref>-feature`, verifies the result, and the pull request is opened from
// it (src/core/pull-requests.ts).
//
// Three steps: check (may this ticket be approved now), resolve (spec documents -> a task plan, the
// graph from src/spec-format/graph.ts), create (the rows and their events, in one transaction).
import { stringify } from 'yaml';
import { AppError } from '../base/errors.js';
import { integrationBranch, specBranch, taskBranch } from '../contracts/branches.js';
import { INTEGRATION_TASK_TYPE } from '../contracts/delivery.js';
import type { Db, Tx } from '../db/client.js';
import { type Edges, findCycles, topologicalOrder } from '../spec-format/graph.js';
import { parseSpecFile } from '../spec-format/parse.js';
import type { SpecRefs } from '../spec-format/types.js';
import type { EventsService } from './events.js';
import { isUuid } from './projects.js';
import { plain } from './rows.js';
import type { Task, TasksService } from './tasks.js';

/** The result of an approval; `created` is 0 when the ticket was already approved. */
export interface ApprovalOutcome {
  ticket: Record<string, unknown> & { id: string; ref: string; approved_at: string | null };
  tasks: Task[];
  created: number;
}

interface SpecDoc {
  id: string;
  spec_id: string;
  kind: string;
  path: string;
  ticket_id: string | null;
  title: string | null;
  frontmatter: Record<string, unknown>;
  body: string;
  items: unknown;
}

const TICKET_COLUMNS = `id, project_id, number, ref, title, description, workflow_mode, status, priority, approved_at,
  created_at, updated_at`;

/** The largest context one task's description carries (the agent reads the rest from the branch). */
const MAX_CONTEXT_CHARS = 60_000;

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The references of a stored document, read by the spec format's own parser. */
function refsOf(doc: SpecDoc): SpecRefs {
  const parsed = parseSpecFile(doc.path, renderSpecDocument(doc)).document;
  return (
    parsed?.refs ?? { dependsOn: [], blocks: [], blockedBy: [], related: [], tasks: [], requirements: [] }
  );
}

function conflict(message: string, issues?: unknown[]): AppError {
  return new AppError('CONFLICT', message, issues ? { issues: issues as never } : {});
}

/** Renders a stored document back as the Markdown file it came from (frontmatter + body). */
export function renderSpecDocument(doc: Pick<SpecDoc, 'frontmatter' | 'body'>): string {
  return `---\n${stringify(doc.frontmatter).trimEnd()}\n---\n${doc.body}`;
}

/**
 * What an implementation agent needs besides the repository: the task's own spec file, its ticket,
 * the requirement items it addresses and the design. Stored as the task's description, which the
 * worker puts into the prompt.
 */
export function buildTaskContext(task: SpecDoc, project: SpecDoc[], ticketRef: string): string {
  const byPath = new Map(project.map((d) => [d.path, d]));
  const bySpec = new Map(project.map((d) => [d.spec_id, d]));
  const parentId = typeof task.frontmatter.parent_ticket === 'string' ? task.frontmatter.parent_ticket : null;
  const parent = parentId ? bySpec.get(parentId) : undefined;
  const wanted = new Set([...list(task.frontmatter.requirements)]);
  if (wanted.size === 0 && parent) for (const r of list(parent.frontmatter.requirements)) wanted.add(r);

  const items: string[] = [];
  const requirementDocs = project.filter((d) => d.kind === 'requirements');
  for (const doc of requirementDocs) {
    const docItems = Array.isArray(doc.items)
      ? (doc.items as {
          id: string;
          title: string;
          ears: string | null;
          criteria?: { text: string; done: boolean }[];
        }[])
      : [];
    for (const item of docItems) {
      if (!wanted.has(item.id) && !wanted.has(doc.spec_id)) continue;
      items.push(
        [
          `### ${item.id}: ${item.title} (${doc.path})`,
          item.ears ?? '',
          ...(item.criteria ?? []).map((c) => `- [${c.done ? 'x' : ' '}] ${c.text}`),
        ]
          .filter((l) => l !== '')
          .join('\n'),
      );
    }
  }

  const designRef =
    parent && typeof parent.frontmatter.design_ref === 'string' ? parent.frontmatter.design_ref : null;
  let designs = designRef ? [byPath.get(`.omoi_os/${designRef}`)].filter((d): d is SpecDoc => !!d) : [];
  if (designs.length === 0) {
    const reqDocIds = new Set(
      requirementDocs
        .filter(
          (d) =>
            wanted.has(d.spec_id) ||
            (Array.isArray(d.items) && (d.items as { id: string }[]).some((i) => wanted.has(i.id))),
        )
        .map((d) => d.spec_id),
    );
    designs = project.filter(
      (d) =>
        d.kind === 'design' &&
        list(d.frontmatter.requirements).some((r) => wanted.has(r) || reqDocIds.has(r)),
    );
  }
  if (designs.length === 0)
    designs = project.filter((d) => d.kind === 'design' && d.ticket_id === task.ticket_id);

  const sections = [
    `Implement spec task ${task.spec_id} of ticket ${ticketRef}${parentId ? ` (spec ticket ${parentId})` : ''}: ${task.title ?? task.spec_id}.`,
    `The spec files are in the repository under .omoi_os/; this branch starts from the spec branch ${specBranch(ticketRef)}.`,
    '',
    `### Task spec: ${task.path}`,
    '',
    nest(renderSpecDocument(task).trim()),
  ];
  if (parent) sections.push('', `### Ticket: ${parent.path}`, '', nest(renderSpecDocument(parent).trim()));
  if (items.length) sections.push('', '### Requirements it addresses', '', items.join('\n\n'));
  for (const design of designs) sections.push('', `### Design: ${design.path}`, '', nest(design.body.trim()));
  const text = sections.join('\n');
  return text.length > MAX_CONTEXT_CHARS
    ? `${text.slice(0, MAX_CONTEXT_CHARS)}\n\n(context cut at ${MAX_CONTEXT_CHARS} characters; read the rest under .omoi_os/)`
    : text;
}

/** Demotes Markdown headings by two levels (outside code fences) so an embedded document nests under ours. */
function nest(text: string): string {
  let fenced = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
      return !fenced && /^#{1,4}\s/.test(line) ? `##${line}` : line;
    })
    .join('\n');
}

/** A ticket that may be approved now, with the documents its plan is made from. */
interface Approvable {
  ticket: LockedTicket;
  /** Every spec document of the project (dependencies and context cross tickets). */
  project: SpecDoc[];
  specTasks: SpecDoc[];
}

type LockedTicket = ApprovalOutcome['ticket'] & {
  project_id: string;
  priority: string;
  workflow_mode: string;
  title: string;
  status: string;
};

/** One task to create, dependencies first. */
interface PlannedTask {
  spec: SpecDoc;
  /** Spec ids of this approval's own tasks it waits for. */
  local: string[];
  /** Ids of tasks earlier approvals created. */
  external: string[];
}

/**
 * Resolve: the ticket's spec tasks as a plan in dependency order. `depends_on` names spec tasks of
 * this spec or tasks an earlier approval created; a ticket's `blocked_by` makes each of its tasks
 * wait for the blocking ticket's tasks. Anything else is a 409 naming it; a cycle is DEPENDENCY_CYCLE.
 */
export function resolvePlan(
  ticketRef: string,
  project: SpecDoc[],
  specTasks: SpecDoc[],
  approvedBySpec: Map<string, string>,
): PlannedTask[] {
  const bySpec = new Map(project.map((d) => [d.spec_id, d]));
  const inSet = new Set(specTasks.map((t) => t.spec_id));
  const refs = new Map<string, SpecRefs>();
  const refsFor = (doc: SpecDoc) => {
    const known = refs.get(doc.spec_id);
    if (known) return known;
    const found = refsOf(doc);
    refs.set(doc.spec_id, found);
    return found;
  };
  const local = new Map<string, Set<string>>(specTasks.map((t) => [t.spec_id, new Set<string>()]));
  const external = new Map<string, Set<string>>(specTasks.map((t) => [t.spec_id, new Set<string>()]));
  const problems: string[] = [];
  const addDependency = (task: string, on: string, why: string) => {
    if (on === task) return;
    if (inSet.has(on)) local.get(task)!.add(on);
    else if (approvedBySpec.has(on)) external.get(task)!.add(approvedBySpec.get(on)!);
    else
      problems.push(
        `${task} ${why} ${on}, which is neither in this spec nor an approved task of the project`,
      );
  };
  for (const task of specTasks)
    for (const on of refsFor(task).dependsOn) addDependency(task.spec_id, on, 'depends on');

  const tasksOf = (ticketSpecId: string) =>
    project
      .filter((d) => d.kind === 'task' && refsFor(d).parentTicket === ticketSpecId)
      .map((d) => d.spec_id);
  for (const task of specTasks) {
    const parentId = refsFor(task).parentTicket;
    const parent = parentId ? bySpec.get(parentId) : undefined;
    if (!parent) continue;
    // a ticket with no tasks blocks nothing
    for (const blocker of refsFor(parent).blockedBy)
      for (const on of tasksOf(blocker))
        addDependency(task.spec_id, on, `(ticket ${parent.spec_id} is blocked by ${blocker}) waits for`);
  }
  if (problems.length)
    throw conflict(
      `cannot approve ${ticketRef}: ${problems.slice(0, 5).join('; ')}`,
      problems.map((message) => ({ path: ['dependencies'], message })),
    );
  const edges: Edges = new Map([...local].map(([id, on]) => [id, [...on]]));
  const cycle = findCycles(edges)[0];
  if (cycle)
    throw new AppError(
      'DEPENDENCY_CYCLE',
      `cannot approve ${ticketRef}: these spec tasks form a cycle: ${cycle.join(' -> ')}`,
    );
  return topologicalOrder(edges).map((specId) => ({
    spec: bySpec.get(specId)!,
    local: [...local.get(specId)!],
    external: [...external.get(specId)!],
  }));
}

/** What the integration run is told besides its merge list (the delivery brief carries that). */
function integrationContext(ticket: LockedTicket, planned: PlannedTask[]): string {
  return [
    `Integrate ticket ${ticket.ref}: ${ticket.title}.`,
    `Merge every task branch of the ticket, dependencies first, into ${integrationBranch(ticket.ref)}, ` +
      'resolve conflicts, verify the result and push.',
    '',
    '### Task branches, in dependency order',
    '',
    ...planned.map(
      (p) => `- ${taskBranch(ticket.ref, p.spec.spec_id)} (${p.spec.spec_id}: ${p.spec.title ?? ''})`,
    ),
  ].join('\n');
}

/**
 * The approval service.
 *
 * @example
 * const approval = createApprovalService(db, { events, tasks });
 * const { tasks, created } = await approval.approve(ticketId); // 409 CONFLICT with the reason when it cannot
 */
export function createApprovalService(db: Db, deps: { events: EventsService; tasks: TasksService }) {
  const { events, tasks } = deps;
  // Approvals running in this process; PostgreSQL advisory locks cover the other processes.
  const running = new Set<string>();

  /** The tasks an approval created: the spec tasks, then the integration task. */
  async function existing(tx: Tx, ticketId: string): Promise<Task[]> {
    const rows = await tx.query<{ id: string }>(
      `SELECT id::text AS id FROM tasks
        WHERE ticket_id = $1 AND (spec_task_id IS NOT NULL OR task_type = $2)
        ORDER BY task_type = $2, created_at, id`,
      [ticketId, INTEGRATION_TASK_TYPE],
    );
    return Promise.all(rows.map((r) => tasks.get(r.id, tx)));
  }

  /** Why a ticket without synced spec tasks cannot be approved, from its spec run and its events. */
  async function unsyncedReason(tx: Tx, ticket: { id: string; ref: string }): Promise<AppError> {
    const runs = await tx.query<{ status: string; error: string | null }>(
      `SELECT status, error FROM tasks WHERE ticket_id = $1 AND execution_mode = 'exploration'
        ORDER BY created_at DESC LIMIT 1`,
      [ticket.id],
    );
    const validation = await tx.query<{ data: { passed?: boolean; issues?: unknown[]; message?: string } }>(
      `SELECT data FROM events WHERE ticket_id = $1 AND type = 'spec.validation' ORDER BY id DESC LIMIT 1`,
      [ticket.id],
    );
    const last = validation[0]?.data;
    if (last && last.passed === false)
      return conflict(
        `the spec of ${ticket.ref} is invalid and was not synced: ${last.message ?? 'validation failed'}`,
        (last.issues ?? []).slice(0, 200),
      );
    // (a spec run still going was refused by `check` before this is asked)
    const run = runs[0];
    if (run?.status === 'failed')
      return conflict(
        `the spec run of ${ticket.ref} failed, nothing was synced: ${run.error ?? 'unknown error'}`,
      );
    return conflict(`ticket ${ticket.ref} has no synced spec tasks to approve`);
  }

  /** Locks the ticket (this process and others) for the rest of the transaction. */
  async function lockTicket(tx: Tx, id: string): Promise<LockedTicket> {
    // Another process approving the same ticket holds this lock for its whole transaction.
    const lock = await tx.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok`, [
      `omoi.approve.${id}`,
    ]);
    if (!lock[0]?.ok) throw conflict(`an approval of ticket ${id} is already running`);
    const locked = await tx.query<Record<string, unknown>>(
      `SELECT ${TICKET_COLUMNS} FROM tickets WHERE id = $1 FOR UPDATE`,
      [id],
    );
    if (!locked[0]) throw new AppError('NOT_FOUND', `no ticket with id ${id}`);
    return plain<LockedTicket>(locked[0]);
  }

  /** Check: whether the locked ticket can be approved now; throws 409 with the reason when not. */
  async function check(tx: Tx, ticket: LockedTicket): Promise<Approvable> {
    if (ticket.workflow_mode !== 'spec_driven')
      throw conflict(`ticket ${ticket.ref} is a quick ticket: it has no spec to approve`);
    const runs = await tx.query<{ status: string }>(
      `SELECT status FROM tasks WHERE ticket_id = $1 AND execution_mode = 'exploration' AND status IN ('pending', 'claimed', 'running', 'awaiting_input')`,
      [ticket.id],
    );
    if (runs[0])
      throw conflict(
        `the spec run of ${ticket.ref} is still ${runs[0].status.replace('_', ' ')}; approve when it has finished`,
      );

    const project = await tx.query<SpecDoc>(
      `SELECT id::text AS id, spec_id, kind, path, ticket_id::text AS ticket_id, title, frontmatter, body, items
         FROM spec_documents WHERE project_id = $1 ORDER BY spec_id`,
      [ticket.project_id],
    );
    const specTasks = project.filter((d) => d.ticket_id === ticket.id && d.kind === 'task');
    if (specTasks.length === 0) throw await unsyncedReason(tx, ticket);

    // A validation that failed after the last sync means the branch holds a spec the API never saw.
    const latest = await tx.query<{
      type: string;
      data: { passed?: boolean; message?: string; issues?: unknown[] };
    }>(
      `SELECT type, data FROM events WHERE ticket_id = $1 AND type IN ('spec.validation', 'spec.synced')
        ORDER BY id DESC LIMIT 1`,
      [ticket.id],
    );
    const last = latest[0];
    if (last?.type === 'spec.validation' && last.data.passed === false)
      throw conflict(
        `the latest spec of ${ticket.ref} is invalid: ${last.data.message ?? 'validation failed'}`,
        (last.data.issues ?? []).slice(0, 200),
      );
    return { ticket, project, specTasks };
  }

  /** Tasks earlier approvals created, by spec task id, for dependencies that cross tickets. */
  async function approvedTasks(tx: Tx, projectId: string): Promise<Map<string, string>> {
    const approved = await tx.query<{ spec_task_id: string; id: string }>(
      `SELECT DISTINCT ON (spec_task_id) spec_task_id, id::text AS id FROM tasks
        WHERE project_id = $1 AND spec_task_id IS NOT NULL ORDER BY spec_task_id, created_at DESC`,
      [projectId],
    );
    return new Map(approved.map((r) => [r.spec_task_id, r.id]));
  }

  /** Create: one task per planned spec task, the integration task after them, the ticket moved. */
  async function create(
    tx: Tx,
    { ticket, project }: Approvable,
    planned: PlannedTask[],
    by: 'user' | 'auto',
  ): Promise<ApprovalOutcome> {
    const created = new Map<string, Task>();
    for (const { spec, local, external } of planned) {
      const task = await tasks.insert(tx, {
        projectId: ticket.project_id,
        ticketId: ticket.id,
        title: `${spec.spec_id}: ${spec.title ?? spec.spec_id}`,
        description: buildTaskContext(spec, project, ticket.ref),
        taskType: typeof spec.frontmatter.type === 'string' ? spec.frontmatter.type : 'implementation',
        executionMode: 'implementation',
        executionConfig: { require_spec_skill: false },
        priority: ticket.priority as Task['priority'],
        branch: taskBranch(ticket.ref, spec.spec_id),
        specTaskId: spec.spec_id,
        dependsOn: [...local.map((d) => created.get(d)!.id), ...external],
      });
      created.set(spec.spec_id, task);
    }
    // Released by the queue once every task above has completed.
    const integration = await tasks.insert(tx, {
      projectId: ticket.project_id,
      ticketId: ticket.id,
      title: `Integrate ${ticket.ref}: ${ticket.title}`,
      description: integrationContext(ticket, planned),
      taskType: INTEGRATION_TASK_TYPE,
      executionMode: 'implementation',
      executionConfig: { require_spec_skill: false },
      priority: ticket.priority as Task['priority'],
      branch: integrationBranch(ticket.ref),
      specTaskId: null,
      dependsOn: [...created.values()].map((t) => t.id),
    });
    const all = [...created.values(), integration];
    const rows = await tx.query<Record<string, unknown>>(
      `UPDATE tickets SET approved_at = now(), status = 'building', updated_at = now() WHERE id = $1
       RETURNING ${TICKET_COLUMNS}`,
      [ticket.id],
    );
    await events.append(
      {
        type: 'ticket.approved',
        projectId: ticket.project_id,
        ticketId: ticket.id,
        data: {
          ref: ticket.ref,
          by,
          tasks: all.map((t) => t.id),
          spec_tasks: planned.map((p) => p.spec.spec_id),
        },
      },
      tx,
    );
    if (ticket.status !== 'building')
      await events.append(
        {
          type: 'ticket.status_changed',
          projectId: ticket.project_id,
          ticketId: ticket.id,
          data: { from: String(ticket.status), to: 'building', reason: 'spec approved' },
        },
        tx,
      );
    return { ticket: plain<ApprovalOutcome['ticket']>(rows[0]!), tasks: all, created: all.length };
  }

  async function approveIn(tx: Tx, id: string, by: 'user' | 'auto'): Promise<ApprovalOutcome> {
    const ticket = await lockTicket(tx, id);
    if (ticket.approved_at) return { ticket, tasks: await existing(tx, id), created: 0 };
    const approvable = await check(tx, ticket);
    const planned = resolvePlan(
      ticket.ref,
      approvable.project,
      approvable.specTasks,
      await approvedTasks(tx, ticket.project_id),
    );
    return create(tx, approvable, planned, by);
  }

  return {
    /**
     * Approves a ticket's synced spec: one implementation task per spec task, dependencies resolved,
     * and one integration task waiting for all of them. Approving an approved ticket creates nothing
     * and returns its tasks. 409 CONFLICT with the reason for a quick ticket, an unsynced or invalid
     * spec, a spec run still going, unresolvable dependencies, or another approval of the same ticket
     * running now.
     */
    async approve(id: string, options: { by?: 'user' | 'auto' } = {}): Promise<ApprovalOutcome> {
      if (!isUuid(id)) throw new AppError('NOT_FOUND', `no ticket with id ${id}`);
      if (running.has(id)) throw conflict(`an approval of ticket ${id} is already running`);
      running.add(id);
      try {
        return await db.transaction((tx) => approveIn(tx, id, options.by ?? 'user'));
      } finally {
        running.delete(id);
      }
    },
  };
}

export type ApprovalService = ReturnType<typeof createApprovalService>;
