// The approval gate: a person (or the project's `auto_approve` setting) turns a ticket's synced spec
// tasks into executable tasks. Spec dependencies name local ids (`TSK-…`); they are resolved here to
// the new task rows, or to tasks an earlier approval created, so every task can become ready. A
// ticket document's `blocked_by` becomes dependencies on the blocking ticket's tasks.
import { stringify } from 'yaml';
import { AppError } from '../base/errors.js';
import { specBranch, taskBranch } from '../contracts/branches.js';
import type { Db, Tx } from '../db/client.js';
import { type Edges, findCycles, topologicalOrder } from '../spec-format/graph.js';
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

function dependencies(doc: SpecDoc, key: 'depends_on' | 'blocked_by'): string[] {
  const deps = doc.frontmatter.dependencies as Record<string, unknown> | undefined;
  return list(deps?.[key]);
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

  async function existing(tx: Tx, ticketId: string): Promise<Task[]> {
    const rows = await tx.query<{ id: string }>(
      `SELECT id::text AS id FROM tasks WHERE ticket_id = $1 AND spec_task_id IS NOT NULL ORDER BY created_at, id`,
      [ticketId],
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
    const run = runs[0];
    if (run && ['pending', 'claimed', 'running'].includes(run.status))
      return conflict(
        `the spec run of ${ticket.ref} is still ${run.status}; approve when its spec is synced`,
      );
    if (run?.status === 'failed')
      return conflict(
        `the spec run of ${ticket.ref} failed, nothing was synced: ${run.error ?? 'unknown error'}`,
      );
    return conflict(`ticket ${ticket.ref} has no synced spec tasks to approve`);
  }

  async function approveIn(tx: Tx, id: string, by: 'user' | 'auto'): Promise<ApprovalOutcome> {
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
    const ticket = plain<
      ApprovalOutcome['ticket'] & { project_id: string; priority: string; workflow_mode: string }
    >(locked[0]);
    if (ticket.approved_at) return { ticket, tasks: await existing(tx, id), created: 0 };
    if (ticket.workflow_mode !== 'spec_driven')
      throw conflict(`ticket ${ticket.ref} is a quick ticket: it has no spec to approve`);

    const runs = await tx.query<{ status: string }>(
      `SELECT status FROM tasks WHERE ticket_id = $1 AND execution_mode = 'exploration' AND status IN ('pending', 'claimed', 'running')`,
      [id],
    );
    if (runs[0])
      throw conflict(
        `the spec run of ${ticket.ref} is still ${runs[0].status}; approve when it has finished`,
      );

    const project = await tx.query<SpecDoc>(
      `SELECT id::text AS id, spec_id, kind, path, ticket_id::text AS ticket_id, title, frontmatter, body, items
         FROM spec_documents WHERE project_id = $1 ORDER BY spec_id`,
      [ticket.project_id],
    );
    const mine = project.filter((d) => d.ticket_id === id);
    const specTasks = mine.filter((d) => d.kind === 'task');
    if (specTasks.length === 0) throw await unsyncedReason(tx, ticket);

    // A validation that failed after the last sync means the branch holds a spec the API never saw.
    const latest = await tx.query<{
      type: string;
      data: { passed?: boolean; message?: string; issues?: unknown[] };
    }>(
      `SELECT type, data FROM events WHERE ticket_id = $1 AND type IN ('spec.validation', 'spec.synced')
        ORDER BY id DESC LIMIT 1`,
      [id],
    );
    const last = latest[0];
    if (last?.type === 'spec.validation' && last.data.passed === false)
      throw conflict(
        `the latest spec of ${ticket.ref} is invalid: ${last.data.message ?? 'validation failed'}`,
        (last.data.issues ?? []).slice(0, 200),
      );

    const bySpec = new Map(project.map((d) => [d.spec_id, d]));
    const inSet = new Set(specTasks.map((t) => t.spec_id));
    // Tasks earlier approvals created, by spec task id, for dependencies that cross tickets.
    const approved = await tx.query<{ spec_task_id: string; id: string }>(
      `SELECT DISTINCT ON (spec_task_id) spec_task_id, id::text AS id FROM tasks
        WHERE project_id = $1 AND spec_task_id IS NOT NULL ORDER BY spec_task_id, created_at DESC`,
      [ticket.project_id],
    );
    const approvedBySpec = new Map(approved.map((r) => [r.spec_task_id, r.id]));

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
      for (const on of dependencies(task, 'depends_on')) addDependency(task.spec_id, on, 'depends on');

    // Ticket documents' blocked_by: every task of the blocked ticket waits for the blocking ticket's tasks.
    const tasksOf = (ticketSpecId: string) =>
      project
        .filter((d) => d.kind === 'task' && d.frontmatter.parent_ticket === ticketSpecId)
        .map((d) => d.spec_id);
    for (const task of specTasks) {
      const parentId = task.frontmatter.parent_ticket;
      const parent = typeof parentId === 'string' ? bySpec.get(parentId) : undefined;
      if (!parent) continue;
      for (const blocker of dependencies(parent, 'blocked_by')) {
        const blockerTasks = tasksOf(blocker);
        if (blockerTasks.length === 0) continue; // a ticket with no tasks blocks nothing
        for (const on of blockerTasks)
          addDependency(task.spec_id, on, `(ticket ${parent.spec_id} is blocked by ${blocker}) waits for`);
      }
    }
    if (problems.length)
      throw conflict(
        `cannot approve ${ticket.ref}: ${problems.slice(0, 5).join('; ')}`,
        problems.map((message) => ({ path: ['dependencies'], message })),
      );
    // The same graph code as the validator and `omoi spec show` (src/spec-format/graph.ts).
    const edges: Edges = new Map([...local].map(([id, on]) => [id, [...on]]));
    const cycle = findCycles(edges)[0];
    if (cycle)
      throw new AppError(
        'DEPENDENCY_CYCLE',
        `cannot approve ${ticket.ref}: these spec tasks form a cycle: ${cycle.join(' -> ')}`,
      );
    const sorted = { order: topologicalOrder(edges) };

    const created = new Map<string, Task>();
    for (const specId of sorted.order) {
      const spec = bySpec.get(specId)!;
      const dependsOn = [...[...local.get(specId)!].map((d) => created.get(d)!.id), ...external.get(specId)!];
      const task = await tasks.insert(tx, {
        projectId: ticket.project_id,
        ticketId: ticket.id,
        title: `${specId}: ${spec.title ?? specId}`,
        description: buildTaskContext(spec, project, ticket.ref),
        taskType: typeof spec.frontmatter.type === 'string' ? spec.frontmatter.type : 'implementation',
        executionMode: 'implementation',
        executionConfig: { require_spec_skill: false },
        priority: ticket.priority as Task['priority'],
        branch: taskBranch(ticket.ref, specId),
        specTaskId: specId,
        dependsOn,
      });
      created.set(specId, task);
    }
    const rows = await tx.query<Record<string, unknown>>(
      `UPDATE tickets SET approved_at = now(), status = 'building', updated_at = now() WHERE id = $1
       RETURNING ${TICKET_COLUMNS}`,
      [id],
    );
    await events.append(
      {
        type: 'ticket.approved',
        projectId: ticket.project_id,
        ticketId: ticket.id,
        data: {
          ref: ticket.ref,
          by,
          tasks: [...created.values()].map((t) => t.id),
          spec_tasks: sorted.order,
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
    return {
      ticket: plain<ApprovalOutcome['ticket']>(rows[0]!),
      tasks: sorted.order.map((s) => created.get(s)!),
      created: created.size,
    };
  }

  return {
    /**
     * Approves a ticket's synced spec: one implementation task per spec task, dependencies resolved.
     * Approving an approved ticket creates nothing and returns its tasks. 409 CONFLICT with the reason
     * for a quick ticket, an unsynced or invalid spec, a spec run still going, unresolvable
     * dependencies, or another approval of the same ticket running now.
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
