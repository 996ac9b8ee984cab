// The delivery brief (issue 13): what an implementation or integration run merges before its
// agent's turn, how it verifies, and which requirement ids its commits carry. Computed from the task
// graph and the synced spec documents, read by the worker through GET /api/v1/tasks/:id.
import type { DeliveryBrief, MergeSource } from '../contracts/delivery.js';
import type { Queryable } from '../db/client.js';
import { topologicalOrder } from '../spec-format/graph.js';
import type { Task } from './tasks.js';

/** The task type of a ticket's integration step (created at approval, depends on every task). */
export const INTEGRATION_TASK_TYPE = 'integration';

interface GraphRow {
  id: string;
  spec_task_id: string | null;
  branch: string | null;
  task_type: string;
  execution_mode: string;
  depends_on: string[];
}

/** Tasks reachable from `roots` over depends_on (the roots included), with their edges. */
async function reachable(q: Queryable, roots: string[]): Promise<GraphRow[]> {
  if (roots.length === 0) return [];
  return q.query<GraphRow>(
    `WITH RECURSIVE reach(id) AS (
       SELECT unnest($1::uuid[])
       UNION
       SELECT d.depends_on_task_id FROM reach JOIN task_dependencies d ON d.task_id = reach.id
     )
     SELECT t.id::text AS id, t.spec_task_id, t.branch, t.task_type, t.execution_mode,
            COALESCE((SELECT array_agg(d.depends_on_task_id::text ORDER BY d.depends_on_task_id)
                        FROM task_dependencies d WHERE d.task_id = t.id), ARRAY[]::text[]) AS depends_on
       FROM tasks t JOIN reach ON reach.id = t.id`,
    [roots],
  );
}

/** The implementation tasks of `rows` in dependency order (ties by spec task id), as merge sources. */
function mergeOrder(rows: GraphRow[], exclude: string): MergeSource[] {
  // Keyed by spec task id first, so that ties (B and C after A) break by name, not by uuid.
  const keyOf = new Map(rows.map((r) => [r.id, `${r.spec_task_id ?? '~'} ${r.id}`]));
  const byKey = new Map(rows.map((r) => [keyOf.get(r.id)!, r]));
  const edges = new Map(rows.map((r) => [keyOf.get(r.id)!, r.depends_on.flatMap((d) => keyOf.get(d) ?? [])]));
  return topologicalOrder(edges)
    .map((key) => byKey.get(key)!)
    .filter(
      (r) =>
        r.id !== exclude &&
        r.branch !== null &&
        r.execution_mode === 'implementation' &&
        r.task_type !== INTEGRATION_TASK_TYPE,
    )
    .map((r) => ({ task_id: r.id, spec_task_id: r.spec_task_id, branch: r.branch! }));
}

/** The requirement ids a spec task document names in its frontmatter (`requirements: [...]`). */
async function requirementsOf(q: Queryable, projectId: string, specTaskId: string | null): Promise<string[]> {
  if (!specTaskId) return [];
  const rows = await q.query<{ frontmatter: Record<string, unknown> }>(
    `SELECT frontmatter FROM spec_documents WHERE project_id = $1 AND spec_id = $2 AND kind = 'task' LIMIT 1`,
    [projectId, specTaskId],
  );
  const value = rows[0]?.frontmatter.requirements;
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * The brief of one task: null for spec (exploration) runs. A task merges its transitive
 * dependencies' branches; an integration task merges every other implementation task of its
 * ticket; both in dependency order.
 *
 * @example
 * const brief = await deliveryBrief(db, task, project.settings.verify_command ?? null);
 * // { kind: 'task', merge: [{ task_id, spec_task_id: 'TSK-X-001', branch: 'omoi/TKT-001-TSK-X-001' }], … }
 */
export async function deliveryBrief(
  q: Queryable,
  task: Pick<Task, 'id' | 'project_id' | 'ticket_id' | 'task_type' | 'execution_mode' | 'spec_task_id'>,
  verifyCommand: string | null,
): Promise<DeliveryBrief | null> {
  if (task.execution_mode !== 'implementation') return null;
  const integration = task.task_type === INTEGRATION_TASK_TYPE;
  let roots = [task.id];
  if (integration && task.ticket_id) {
    const ofTicket = await q.query<{ id: string }>(
      `SELECT id::text AS id FROM tasks WHERE ticket_id = $1 AND execution_mode = 'implementation'`,
      [task.ticket_id],
    );
    roots = ofTicket.map((r) => r.id);
  }
  const rows = await reachable(q, roots);
  const merge = mergeOrder(
    // An integration merges its own ticket's tasks, not the other tickets they depend on.
    integration ? rows.filter((r) => roots.includes(r.id)) : rows,
    task.id,
  );
  let requirements = await requirementsOf(q, task.project_id, task.spec_task_id);
  if (integration) {
    const all = await Promise.all(merge.map((m) => requirementsOf(q, task.project_id, m.spec_task_id)));
    requirements = [...new Set(all.flat())].sort();
  }
  return {
    kind: integration ? 'integration' : 'task',
    merge,
    verify_command: verifyCommand,
    spec_task_id: task.spec_task_id,
    requirements,
  };
}
