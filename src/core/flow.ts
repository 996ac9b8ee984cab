// Status flows back: after a task changes state, its dependants are blocked (or released), its spec
// task follows it, and its ticket moves across the board. Idempotent: calling `settle` twice for one
// change does nothing the second time, so every place that changes a task may call it. When a
// ticket's integration task completes, its pull request is opened here, on the server
// (src/core/pull-requests.ts), before the ticket moves: a ticket that wants one is done only with it.

import type { TicketStatus } from '../contracts/api.js';
import { INTEGRATION_TASK_TYPE } from '../contracts/delivery.js';
import type { EventData } from '../contracts/events.js';
import type { Db, Queryable, Tx } from '../db/client.js';
import type { ApprovalService } from './approval.js';
import type { EventsService } from './events.js';
import { isUuid } from './projects.js';
import { type PullRequestsService, pullRequestSettings } from './pull-requests.js';

/** The prefix of the error a task blocked by a failed dependency carries (and loses on release). */
export const BLOCKED_PREFIX = 'blocked: ';

/** A task's status as the spec task status enum of docs/spec-format.md. */
export function specTaskStatus(status: string): 'pending' | 'in_progress' | 'done' | 'blocked' {
  if (status === 'completed') return 'done';
  // A task waiting for a person's answer is still under way.
  if (status === 'claimed' || status === 'running' || status === 'awaiting_input') return 'in_progress';
  if (status === 'failed' || status === 'cancelled' || status === 'blocked') return 'blocked';
  return 'pending';
}

interface ChangedRow {
  id: string;
  ticket_id: string | null;
  spec_task_id: string | null;
}

interface FlowTask {
  id: string;
  status: string;
  task_type: string;
  execution_mode: string;
  spec_task_id: string | null;
  error: string | null;
  title: string;
}

/** Where a ticket's pull request stands: not wanted, opened, failed, or still to open. */
export type PullRequestState = 'none' | 'opened' | 'failed' | 'waiting';

/**
 * The board column a ticket belongs in, from its tasks: spec work → analyzing, a passed spec run
 * whose documents are synced but not yet approved → awaiting_approval; implementation
 * tasks → building, then testing once only `test` tasks and the integration task remain, then done
 * (with its pull request, when the project wants one); a failed, cancelled or blocked task, or a
 * pull request that could not be opened → blocked. Null leaves the ticket where it is.
 */
export function ticketStatusFor(
  tasks: Pick<FlowTask, 'status' | 'task_type' | 'execution_mode'>[],
  approved: boolean,
  /** Whether the ticket's spec documents are stored (the run synced them). */
  specSynced = true,
  pullRequest: PullRequestState = 'none',
): TicketStatus | null {
  const work = tasks.filter((t) => t.execution_mode === 'implementation');
  const spec = tasks.filter((t) => t.execution_mode !== 'implementation');
  const stuck = (t: { status: string }) => ['failed', 'cancelled', 'blocked'].includes(t.status);
  if (work.length === 0) {
    const last = spec.at(-1);
    if (!last) return null;
    if (stuck(last)) return 'blocked';
    if (['pending', 'claimed', 'running', 'awaiting_input'].includes(last.status)) return 'analyzing';
    // a completed spec run has pushed and synced its spec (src/worker/run.ts): a person decides next
    if (!approved) return last.status === 'completed' && specSynced ? 'awaiting_approval' : 'analyzing';
    return null;
  }
  if (work.some(stuck)) return 'blocked';
  if (work.every((t) => t.status === 'completed')) {
    if (pullRequest === 'failed') return 'blocked';
    return pullRequest === 'waiting' ? 'testing' : 'done';
  }
  const checking = (t: { task_type: string }) =>
    t.task_type === 'test' || t.task_type === INTEGRATION_TASK_TYPE;
  const open = work.filter((t) => t.status !== 'completed');
  if (open.every(checking) && work.some((t) => !checking(t))) return 'testing';
  if (work.every((t) => t.status === 'pending') && !approved) return 'backlog';
  return 'building';
}

/**
 * The flow service.
 *
 * @example
 * const flow = createFlowService(db, { events, approval });
 * await flow.settle(taskId); // after the queue completed, failed, retried or cancelled it
 */
export function createFlowService(
  db: Db,
  deps: { events: EventsService; approval?: ApprovalService; pullRequests?: PullRequestsService },
) {
  const { events } = deps;

  async function descendants(q: Queryable, taskId: string): Promise<string[]> {
    const rows = await q.query<{ id: string }>(
      `WITH RECURSIVE down(id) AS (
         SELECT task_id FROM task_dependencies WHERE depends_on_task_id = $1
         UNION SELECT d.task_id FROM task_dependencies d JOIN down ON d.depends_on_task_id = down.id)
       SELECT id::text AS id FROM down`,
      [taskId],
    );
    return rows.map((r) => r.id);
  }

  /** Blocks the pending tasks downstream of a failed one, with the reason. */
  async function blockDependants(q: Tx, task: FlowTask & { project_id: string; ticket_id: string | null }) {
    const ids = await descendants(q, task.id);
    if (ids.length === 0) return;
    const name = task.spec_task_id ?? task.title;
    const reason = `${BLOCKED_PREFIX}${name} ${task.status}${task.error ? `: ${task.error}` : ''}`.slice(
      0,
      2000,
    );
    const blocked = await q.query<ChangedRow>(
      `UPDATE tasks SET status = 'blocked', error = $2, updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = 'pending'
        RETURNING id::text AS id, ticket_id::text AS ticket_id, spec_task_id`,
      [ids, reason],
    );
    await announce(
      q,
      task.project_id,
      blocked,
      { type: 'task.blocked', data: { reason, blocked_by: task.id } },
      'blocked',
    );
  }

  /** Records what happened to each changed dependant and lets its spec task follow. */
  async function announce(
    q: Tx,
    projectId: string,
    rows: ChangedRow[],
    change:
      | { type: 'task.blocked'; data: Omit<EventData<'task.blocked'>, 'spec_task_id'> }
      | { type: 'task.unblocked'; data: Omit<EventData<'task.unblocked'>, 'spec_task_id'> },
    specStatus: string,
  ) {
    for (const row of rows) {
      const where = { projectId, ticketId: row.ticket_id, taskId: row.id };
      await events.append(
        change.type === 'task.blocked'
          ? { ...where, type: change.type, data: { ...change.data, spec_task_id: row.spec_task_id } }
          : { ...where, type: change.type, data: { ...change.data, spec_task_id: row.spec_task_id } },
        q,
      );
      await followSpec(q, projectId, row.spec_task_id, specStatus);
    }
  }

  /** Releases blocked tasks downstream of a task that runs again, unless another failure still holds them. */
  async function releaseDependants(q: Tx, task: { id: string; project_id: string }) {
    const ids = await descendants(q, task.id);
    if (ids.length === 0) return;
    const released = await q.query<ChangedRow>(
      `WITH RECURSIVE up(task_id, id) AS (
         SELECT t, d.depends_on_task_id FROM unnest($1::uuid[]) AS t JOIN task_dependencies d ON d.task_id = t
         UNION SELECT up.task_id, d.depends_on_task_id FROM up JOIN task_dependencies d ON d.task_id = up.id)
       UPDATE tasks SET status = 'pending', error = NULL, updated_at = now()
        WHERE id = ANY($1::uuid[]) AND status = 'blocked' AND error LIKE '${BLOCKED_PREFIX}%'
          AND NOT EXISTS (SELECT 1 FROM up JOIN tasks a ON a.id = up.id
                           WHERE up.task_id = tasks.id AND a.status IN ('failed', 'cancelled'))
        RETURNING id::text AS id, ticket_id::text AS ticket_id, spec_task_id`,
      [ids],
    );
    await announce(
      q,
      task.project_id,
      released,
      { type: 'task.unblocked', data: { released_by: task.id } },
      'pending',
    );
  }

  /** The spec task's status (column and frontmatter, which the UI shows) follows its execution task. */
  async function followSpec(q: Queryable, projectId: string, specTaskId: string | null, status: string) {
    if (!specTaskId) return;
    await q.query(
      `UPDATE spec_documents SET status = $3, frontmatter = jsonb_set(frontmatter, '{status}', to_jsonb($3::text)),
              updated_at = now()
        WHERE project_id = $1 AND spec_id = $2 AND kind = 'task' AND status IS DISTINCT FROM $3`,
      [projectId, specTaskId, status],
    );
  }

  /** A ticket wants a pull request when its project asks for one and it has an integration task. */
  function pullRequestState(
    ticket: { settings: unknown; pull_request: unknown; pull_request_error: string | null },
    tasks: Pick<FlowTask, 'task_type'>[],
  ): PullRequestState {
    if (!pullRequestSettings(ticket.settings) || !tasks.some((t) => t.task_type === INTEGRATION_TASK_TYPE))
      return 'none';
    if (ticket.pull_request_error) return 'failed';
    return ticket.pull_request ? 'opened' : 'waiting';
  }

  /**
   * What `ticketStatusFor` reads of a ticket's tasks, without reading every task: each distinct
   * (status, type, mode) once — it asks only whether some or every task is in a state — and, last,
   * the newest spec run, the one whose state it reads. A ticket of 200 tasks is a handful of rows
   * where it was 200 at every settle (three per task run: the status flow was quadratic in it).
   */
  async function taskShapes(
    q: Tx,
    ticketId: string,
  ): Promise<Pick<FlowTask, 'status' | 'task_type' | 'execution_mode'>[]> {
    const rows = await q.query<Pick<FlowTask, 'status' | 'task_type' | 'execution_mode'> & { last: boolean }>(
      `(SELECT DISTINCT status, task_type, execution_mode, false AS last FROM tasks WHERE ticket_id = $1)
       UNION ALL
       (SELECT status, task_type, execution_mode, true AS last FROM tasks
         WHERE ticket_id = $1 AND execution_mode <> 'implementation' ORDER BY created_at DESC, id DESC LIMIT 1)`,
      [ticketId],
    );
    return [...rows.filter((r) => !r.last), ...rows.filter((r) => r.last)];
  }

  /** Moves the ticket to the column its tasks put it in; records the move. */
  async function moveTicket(q: Tx, ticketId: string): Promise<TicketStatus | null> {
    const tickets = await q.query<{
      status: TicketStatus;
      approved_at: unknown;
      project_id: string;
      settings: unknown;
      pull_request: unknown;
      pull_request_error: string | null;
      synced: boolean;
    }>(
      `SELECT t.status, t.approved_at, t.project_id::text AS project_id, p.settings, t.pull_request,
              t.pull_request_error, EXISTS (SELECT 1 FROM spec_documents d WHERE d.ticket_id = t.id) AS synced
         FROM tickets t JOIN projects p ON p.id = t.project_id WHERE t.id = $1`,
      [ticketId],
    );
    const ticket = tickets[0];
    if (!ticket) return null;
    const shapes = await taskShapes(q, ticketId);
    const next = ticketStatusFor(
      shapes,
      ticket.approved_at !== null,
      ticket.synced,
      pullRequestState(ticket, shapes),
    );
    if (!next || next === ticket.status) return ticket.status;
    const moved = await q.query(
      `UPDATE tickets SET status = $2, updated_at = now() WHERE id = $1 AND status = $3 RETURNING id`,
      [ticketId, next, ticket.status],
    );
    if (moved.length === 0) return null; // someone else moved it meanwhile; their settle decides
    const stuck =
      next === 'blocked'
        ? (
            await q.query<Pick<FlowTask, 'spec_task_id' | 'title' | 'error' | 'status'>>(
              `SELECT spec_task_id, title, error, status FROM tasks
                WHERE ticket_id = $1 AND status IN ('failed', 'cancelled', 'blocked') ORDER BY created_at, id LIMIT 1`,
              [ticketId],
            )
          )[0]
        : undefined;
    const reason = stuck
      ? `${stuck.spec_task_id ?? stuck.title}: ${stuck.error ?? stuck.status}`
      : `pull request: ${ticket.pull_request_error ?? 'not opened'}`;
    await events.append(
      {
        type: 'ticket.status_changed',
        projectId: ticket.project_id,
        ticketId,
        data: {
          from: ticket.status,
          to: next,
          ...(next === 'blocked' ? { reason } : {}),
        },
      },
      q,
    );
    return next;
  }

  return {
    ticketStatusFor,

    /**
     * Applies the consequences of a task's current status. Safe to call at any time and more than
     * once. Returns the ticket's status afterwards (null without a ticket).
     */
    async settle(taskId: string): Promise<TicketStatus | null> {
      if (!isUuid(taskId)) return null;
      const rows = await db.query<
        FlowTask & { project_id: string; ticket_id: string | null; auto: boolean | null; held: boolean }
      >(
        // held: does a failure block anything in the project (else there is nothing to release)
        `SELECT t.id::text AS id, t.project_id::text AS project_id, t.ticket_id::text AS ticket_id, t.status, t.task_type,
                t.execution_mode, t.spec_task_id, t.error, t.title, (p.settings->>'auto_approve')::boolean AS auto,
                EXISTS (SELECT 1 FROM tasks b WHERE b.project_id = t.project_id AND b.status = 'blocked'
                           AND b.error LIKE '${BLOCKED_PREFIX}%') AS held
           FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.id = $1`,
        [taskId],
      );
      const task = rows[0];
      if (!task) return null;
      const completed = task.status === 'completed';
      // What comes between the task's consequences and the ticket's move, if anything.
      const approval =
        completed && task.execution_mode === 'exploration' && task.auto ? deps.approval : undefined;
      const pullRequests =
        completed && task.task_type === INTEGRATION_TASK_TYPE ? deps.pullRequests : undefined;
      const ticketId = task.ticket_id;
      const moveNow = ticketId !== null && !approval && !pullRequests;
      // Each change commits together with the event that describes it; the ticket's move too, in the
      // same transaction, unless an approval or a pull request comes between them.
      const moved = await db.transaction(async (tx) => {
        if (task.status === 'failed' || task.status === 'cancelled') await blockDependants(tx, task);
        // Back in the queue (a retry, or the reaper) — possibly claimed again already by the time this
        // runs: whatever its failure blocked may run again.
        else if (
          task.held &&
          (task.status === 'pending' || task.status === 'claimed' || task.status === 'running')
        )
          await releaseDependants(tx, task);
        await followSpec(tx, task.project_id, task.spec_task_id, specTaskStatus(task.status));
        return moveNow ? moveTicket(tx, ticketId) : null;
      });
      if (moveNow || !ticketId) return moved;
      if (approval) {
        // The project skips the gate: the spec run's completion approves its spec.
        await approval.approve(ticketId, { by: 'auto' }).catch(() => {
          // not approvable (nothing synced, invalid): the ticket waits for a person, who sees why on Approve
        });
      }
      // The server opens the pull request itself (the token never reaches a sandbox); it stores a
      // failure instead of throwing, and the ticket then shows blocked with the reason.
      if (pullRequests) await pullRequests.openFor(ticketId);
      return db.transaction((tx) => moveTicket(tx, ticketId));
    },
  };
}

export type FlowService = ReturnType<typeof createFlowService>;
