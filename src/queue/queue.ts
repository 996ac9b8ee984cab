// The task queue on the `tasks` table: a claim (one call of the SQL function omoi_claim_task,
// migration 0007) locks its project's row (FOR UPDATE, so two claimers cannot both take a project's
// last slot) and takes the next ready task along the claim index with one conditional UPDATE under
// a lease; heartbeats renew it; complete/fail are idempotent; the reaper (FOR UPDATE SKIP
// LOCKED) hands back tasks whose lease ran out; depends_on gates a task. Same SQL on PGlite and
// PostgreSQL 15.
//
// Every status change takes an optional `record` hook that runs in the change's own transaction,
// only when the change happened: the orchestrator appends the matching event there, so a process
// killed in between cannot leave a finished task without its event (or an event without the change).

import { TASKS_CHANNEL } from '../contracts/channels.js';
import type { Tx } from '../db/client.js';

/** The SQL surface the queue needs; `src/db/client.ts` provides it (a `Db`). */
export interface QueueSql {
  /** Runs one statement and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs `fn` in one transaction on one connection. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
}

/** Runs in the transaction of a status change that happened (appends its event). */
export type RecordChange<R = void> = (tx: Tx, changed: R) => Promise<unknown>;

/** A claimed task, with what the orchestrator needs to run it. */
export interface ClaimedTask {
  id: string;
  project_id: string;
  ticket_id: string | null;
  title: string;
  description: string;
  status: string;
  attempts: number;
  max_attempts: number;
  execution_mode: 'exploration' | 'implementation' | null;
  execution_config: { require_spec_skill?: boolean; selected_skill?: string } | null;
  branch: string | null;
  task_type: string | null;
  claimed_by: string;
}

export interface QueueOptions {
  /** How long a claim lasts without a heartbeat. */
  leaseMs?: number;
  /** Concurrency limit of a project whose settings name none. */
  defaultProjectLimit?: number;
  /** Base of the exponential backoff after a lease ran out (doubles per attempt, capped at 5 min). */
  backoffBaseMs?: number;
}

export interface ReapedTask {
  id: string;
  project_id: string;
  ticket_id: string | null;
  status: 'pending' | 'failed';
  attempts: number;
  claimed_by: string | null;
}

const ACTIVE = `('claimed', 'running')`;

const RETURNING = `id, project_id, ticket_id, title, description, status, attempts, max_attempts,
  execution_mode, execution_config, branch, task_type, claimed_by`;

function normalise(row: Record<string, unknown>): ClaimedTask {
  const config = row.execution_config;
  return {
    ...(row as unknown as ClaimedTask),
    attempts: Number(row.attempts),
    max_attempts: Number(row.max_attempts),
    execution_config:
      typeof config === 'string' ? JSON.parse(config) : ((config as ClaimedTask['execution_config']) ?? null),
  };
}

/**
 * Creates the queue.
 *
 * @example
 * const queue = createQueue(sql, { leaseMs: 30_000 });
 * const task = await queue.claim('orchestrator-1');
 * if (task) { await queue.heartbeat(task.id, 'orchestrator-1'); await queue.complete(task.id, 'orchestrator-1', {}); }
 */
export function createQueue(sql: QueueSql, options: QueueOptions = {}) {
  const leaseMs = options.leaseMs ?? 30_000;
  const defaultLimit = options.defaultProjectLimit ?? 4;
  const backoffBaseMs = options.backoffBaseMs ?? 2_000;
  const lease = `make_interval(secs => $2::double precision / 1000)`;

  /** Runs one status-changing statement and, when it changed a row, `record` in the same transaction. */
  const change = <R>(
    statement: string,
    params: unknown[],
    record: ((tx: Tx, row: R) => Promise<unknown>) | undefined,
  ): Promise<R | undefined> =>
    sql.transaction(async (tx) => {
      const rows = await tx.query<R>(statement, params);
      if (rows[0] !== undefined && record) await record(tx, rows[0]);
      return rows[0];
    });

  return {
    leaseMs,

    /**
     * Claims the next ready task for `claimer`, or returns null. The project row is locked (briefly,
     * for the claim's transaction) so that two claimers cannot both take the last free slot of a
     * project; projects are locked in id order so that claimers never deadlock. Within a project the
     * task with the highest priority, then the oldest, goes first.
     */
    async claim(claimer: string): Promise<ClaimedTask | null> {
      // omoi_claim_task (migration 0007) locks, counts and claims in one round trip, along the
      // claim index; the steps are spelled out there. One statement on purpose: the project's row
      // stays locked until its transaction ends, and several orchestrators claim from one project
      // (a claim with its event in one transaction held it three round trips longer: 2 processes
      // fell from 0.95x to 0.82x the throughput of one).
      const rows = await sql.query(`SELECT ${RETURNING} FROM omoi_claim_task($1, $2, $3)`, [
        claimer,
        leaseMs,
        defaultLimit,
      ]);
      return rows[0] ? normalise(rows[0]) : null;
    },

    /** Marks a claimed task as running (its sandbox started). */
    async markRunning(taskId: string, claimer: string): Promise<boolean> {
      const rows = await sql.query(
        `UPDATE tasks SET updated_at = now(), status = 'running' WHERE id = $1 AND claimed_by = $2 AND status IN ${ACTIVE} RETURNING id`,
        [taskId, claimer],
      );
      return rows.length > 0;
    },

    /** Renews the lease; false when the claim is gone (cancelled, reaped or finished). */
    async heartbeat(taskId: string, claimer: string): Promise<boolean> {
      const rows = await sql.query(
        `UPDATE tasks SET lease_until = now() + ${lease}
          WHERE id = $1 AND claimed_by = $3 AND status IN ${ACTIVE} RETURNING id`,
        [taskId, leaseMs, claimer],
      );
      return rows.length > 0;
    },

    /** Completes a task this claimer holds; false (a no-op) when it is not held any more. */
    async complete(
      taskId: string,
      claimer: string,
      result: unknown,
      record?: RecordChange,
    ): Promise<boolean> {
      // The UPDATE and the wake-up of every orchestrator (its dependants may be ready now, and
      // another process may hold the slots) are one statement: NOTIFY is sent at commit, with it.
      const statement = `WITH done AS (
          UPDATE tasks SET updated_at = now(), status = 'completed', finished_at = now(), lease_until = NULL,
                 result = $3::jsonb, error = NULL
           WHERE id = $1 AND claimed_by = $2 AND status IN ${ACTIVE} RETURNING project_id::text AS project_id)
        SELECT project_id, pg_notify($4, project_id) FROM done`;
      const params = [taskId, claimer, JSON.stringify(result ?? {}), TASKS_CHANNEL];
      // Without a hook there is nothing to share a transaction with: one round trip.
      const row = record
        ? await change(statement, params, (tx) => record(tx))
        : (await sql.query(statement, params))[0];
      return row !== undefined;
    },

    /** Fails a task this claimer holds, for good; false (a no-op) when it is not held any more. */
    async fail(
      taskId: string,
      claimer: string,
      error: string,
      result?: unknown,
      record?: RecordChange,
    ): Promise<boolean> {
      const row = await change(
        `UPDATE tasks SET updated_at = now(), status = 'failed', finished_at = now(), lease_until = NULL, error = $3,
                result = COALESCE($4::jsonb, result)
          WHERE id = $1 AND claimed_by = $2 AND status IN ${ACTIVE} RETURNING id`,
        [taskId, claimer, error, result === undefined ? null : JSON.stringify(result)],
        record && ((tx) => record(tx)),
      );
      return row !== undefined;
    },

    /**
     * Hands a held task back after a crash of its worker: pending again with backoff, or failed
     * when it has used its attempts. Returns the new status, or null when it was not held.
     */
    async retryOrFail(
      taskId: string,
      claimer: string,
      error: string,
      record?: RecordChange<'pending' | 'failed'>,
    ): Promise<'pending' | 'failed' | null> {
      const row = await change<{ status: 'pending' | 'failed' }>(
        `UPDATE tasks SET updated_at = now(),
            status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
            claimed_by = NULL, lease_until = NULL, error = $3,
            finished_at = CASE WHEN attempts >= max_attempts THEN now() ELSE NULL END,
            run_after = now() + make_interval(secs => least(300, $4::double precision * power(2, greatest(attempts - 1, 0)) / 1000))
          WHERE id = $1 AND claimed_by = $2 AND status IN ${ACTIVE} RETURNING status`,
        [taskId, claimer, error, backoffBaseMs],
        record && ((tx, changed) => record(tx, changed.status)),
      );
      return row?.status ?? null;
    },

    /** Gives a held task back untouched (graceful shutdown): pending, the attempt not counted. */
    async release(taskId: string, claimer: string, record?: RecordChange): Promise<boolean> {
      const row = await change(
        `UPDATE tasks SET updated_at = now(), status = 'pending', claimed_by = NULL, lease_until = NULL,
                attempts = greatest(attempts - 1, 0), run_after = NULL
          WHERE id = $1 AND claimed_by = $2 AND status IN ${ACTIVE} RETURNING id`,
        [taskId, claimer],
        record && ((tx) => record(tx)),
      );
      return row !== undefined;
    },

    /**
     * Returns tasks whose lease ran out to pending (with backoff) or to failed after max_attempts.
     * With `all`, every claimed task is reaped regardless of its lease: only for a database that a
     * single process owns (PGlite), at start, where any claim is an orphan of a dead process.
     */
    async reap(opts: { all?: boolean } = {}, record?: RecordChange<ReapedTask[]>): Promise<ReapedTask[]> {
      return sql.transaction(async (tx) => {
        const rows = await tx.query<ReapedTask>(
          `WITH expired AS (
           SELECT id, claimed_by FROM tasks
            WHERE status IN ${ACTIVE} AND (${opts.all ? 'true' : 'lease_until < now()'})
            FOR UPDATE SKIP LOCKED)
         UPDATE tasks t SET updated_at = now(),
            status = CASE WHEN t.attempts >= t.max_attempts THEN 'failed' ELSE 'pending' END,
            claimed_by = NULL, lease_until = NULL,
            error = 'the lease ran out (the orchestrator or its worker stopped)',
            finished_at = CASE WHEN t.attempts >= t.max_attempts THEN now() ELSE NULL END,
            run_after = now() + make_interval(secs => least(300, $1::double precision * power(2, greatest(t.attempts - 1, 0)) / 1000))
           FROM expired e WHERE t.id = e.id
         RETURNING t.id, t.project_id, t.ticket_id, t.status, t.attempts, e.claimed_by`,
          [backoffBaseMs],
        );
        const reaped = rows.map((r) => ({ ...r, attempts: Number(r.attempts) }));
        if (reaped.length > 0 && record) await record(tx, reaped);
        return reaped;
      });
    },

    /** The status of one task (the orchestrator checks it when a worker exits). */
    async status(taskId: string): Promise<string | null> {
      const rows = await sql.query<{ status: string }>(`SELECT status FROM tasks WHERE id = $1`, [taskId]);
      return rows[0]?.status ?? null;
    },

    /** When the next pending task becomes ready by time alone (backoff), for the wake-up timer. */
    async nextRunAfter(): Promise<Date | null> {
      const rows = await sql.query<{ at: Date | string | null }>(
        `SELECT min(run_after) AS at FROM tasks WHERE status = 'pending' AND run_after > now()`,
      );
      const at = rows[0]?.at;
      return at ? new Date(at) : null;
    },
  };
}

export type Queue = ReturnType<typeof createQueue>;
