// Traceability (issue 13): from each requirement item of a ticket's requirements to the tasks whose
// spec task covers it, their commits and their verification evidence. GET /tickets/:id/trace returns
// it, `omoi spec trace` prints it, and the pull request's body is written from it.
import {
  DeliveryResult,
  INTEGRATION_TASK_TYPE,
  type PullRequest,
  type TicketTrace,
  type TraceStatus,
  Verification,
  verificationState,
} from '../contracts/delivery.js';
import type { Queryable } from '../db/client.js';

/** A task row as the trace reads it. */
export interface TraceTask {
  id: string;
  title: string;
  status: string;
  task_type: string;
  branch: string | null;
  spec_task_id: string | null;
  result: unknown;
}

interface TraceDoc {
  spec_id: string;
  kind: string;
  path: string;
  title: string | null;
  frontmatter: Record<string, unknown>;
  items: unknown;
}

/** The delivery fields of a task's result; anything malformed reads as absent. */
export function deliveryOf(result: unknown): Partial<DeliveryResult> {
  if (!result || typeof result !== 'object') return {};
  const parsed = DeliveryResult.partial().safeParse(result);
  if (parsed.success) return parsed.data;
  // Keep what is well-formed field by field (one bad field should not hide the commit).
  const raw = result as Record<string, unknown>;
  const verification = Verification.safeParse(raw.verification);
  return {
    ...(typeof raw.commit === 'string' ? { commit: raw.commit } : {}),
    ...(typeof raw.branch === 'string' ? { branch: raw.branch } : {}),
    ...(typeof raw.base_commit === 'string' ? { base_commit: raw.base_commit } : {}),
    ...(verification.success ? { verification: verification.data } : {}),
    ...(Array.isArray(raw.requirements)
      ? { requirements: raw.requirements.filter((r): r is string => typeof r === 'string') }
      : {}),
  };
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/**
 * A requirement's status from the tasks covering it: failing when one failed (or its verification
 * did), verified when all completed with passing verification, unverified when all completed but
 * some without evidence or while some are still to run after others completed, else not started.
 */
export function traceStatus(tasks: { status: string; verification: Verification | null }[]): TraceStatus {
  if (tasks.length === 0) return 'not_started';
  if (
    tasks.some(
      (t) =>
        ['failed', 'cancelled'].includes(t.status) ||
        (t.status === 'completed' && verificationState(t.verification) === 'failing'),
    )
  )
    return 'failing';
  const completed = tasks.filter((t) => t.status === 'completed');
  if (completed.length === tasks.length)
    return completed.every((t) => verificationState(t.verification) === 'verified')
      ? 'verified'
      : 'unverified';
  return completed.length > 0 ? 'unverified' : 'not_started';
}

/** The requirement ids a spec task covers: its own, else its ticket's (as its run's context does). */
function coveredBy(task: TraceDoc, bySpec: Map<string, TraceDoc>): Set<string> {
  const own = strings(task.frontmatter.requirements);
  if (own.length > 0) return new Set(own);
  const parentId = task.frontmatter.parent_ticket;
  const parent = typeof parentId === 'string' ? bySpec.get(parentId) : undefined;
  return new Set(parent ? strings(parent.frontmatter.requirements) : []);
}

/**
 * The trace of one ticket. `commitsOf` adds the commits of a task's branch (from the server's
 * mirror); without it a task lists the commit its result names.
 *
 * @example
 * const trace = await ticketTrace(db, ticket, { commitsOf: (task) => mirrorCommits(task) });
 * trace.requirements[0]; // { id: 'REQ-…', status: 'verified', tasks: [{ commits: ['3f2a…'], … }] }
 */
export async function ticketTrace(
  q: Queryable,
  ticket: { id: string; ref: string; project_id: string; pull_request?: PullRequest | null | undefined },
  options: { commitsOf?: (task: TraceTask, result: Partial<DeliveryResult>) => Promise<string[]> } = {},
): Promise<TicketTrace> {
  const [tasks, documents] = await Promise.all([
    q.query<TraceTask>(
      `SELECT id::text AS id, title, status, task_type, branch, spec_task_id, result FROM tasks
        WHERE ticket_id = $1 AND execution_mode = 'implementation'
        ORDER BY spec_task_id NULLS LAST, created_at, id`,
      [ticket.id],
    ),
    q.query<TraceDoc & { ticket_id: string | null }>(
      `SELECT spec_id, kind, path, title, frontmatter, items, ticket_id::text AS ticket_id
         FROM spec_documents WHERE project_id = $1 ORDER BY path`,
      [ticket.project_id],
    ),
  ]);
  const bySpec = new Map(documents.map((d) => [d.spec_id, d]));

  const entries = await Promise.all(
    tasks.map(async (task) => {
      const result = deliveryOf(task.result);
      const commits = new Set<string>(result.commit ? [result.commit] : []);
      if (options.commitsOf)
        for (const c of await options.commitsOf(task, result).catch(() => [])) commits.add(c);
      const spec = task.spec_task_id ? bySpec.get(task.spec_task_id) : undefined;
      const covers = spec ? coveredBy(spec, bySpec) : new Set<string>();
      for (const r of result.requirements ?? []) covers.add(r);
      return {
        task,
        covers,
        row: {
          task_id: task.id,
          spec_task_id: task.spec_task_id,
          title: task.title,
          status: task.status,
          branch: result.branch ?? task.branch,
          commits: [...commits],
          verification: result.verification ?? null,
        },
      };
    }),
  );

  const requirements: TicketTrace['requirements'] = [];
  for (const doc of documents) {
    if (doc.kind !== 'requirements' || doc.ticket_id !== ticket.id) continue;
    const items = Array.isArray(doc.items) ? (doc.items as { id: string; title: string }[]) : [];
    for (const item of items) {
      const rows = entries
        .filter((e) => e.task.task_type !== INTEGRATION_TASK_TYPE)
        .filter((e) => e.covers.has(item.id) || e.covers.has(doc.spec_id))
        .map((e) => e.row);
      requirements.push({ id: item.id, title: item.title, status: traceStatus(rows), tasks: rows });
    }
  }

  const integration = entries.find((e) => e.task.task_type === INTEGRATION_TASK_TYPE);
  return {
    ticket_id: ticket.id,
    ref: ticket.ref,
    requirements,
    integration: integration
      ? {
          task_id: integration.task.id,
          status: integration.task.status,
          branch: integration.row.branch,
          commit: deliveryOf(integration.task.result).commit ?? null,
          verification: integration.row.verification,
        }
      : null,
    pull_request: ticket.pull_request ?? null,
  };
}
