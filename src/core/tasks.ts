// Tasks: units of agent work, queued in the `tasks` table (src/queue claims them). Creating a task,
// or putting one back to pending, NOTIFYs `omoi_tasks` with its project id in the same transaction,
// so orchestrators wake on commit.

import { AppError } from '../base/errors.js';
import type {
  Task as ApiTask,
  ExecutionConfig,
  ExecutionMode,
  Priority,
  TaskStatus,
} from '../contracts/api.js';
import { specBranch } from '../contracts/branches.js';
import type { AppendEvent, EventData } from '../contracts/events.js';
import type { Db, Queryable, Tx } from '../db/client.js';
import { type EventsService, TASKS_CHANNEL } from './events.js';
import { isUuid } from './projects.js';
import { plain } from './rows.js';

/** The task as the API defines it (src/contracts/api.ts). */
export type Task = ApiTask;

export interface NewTask {
  projectId: string;
  ticketId: string | null;
  title: string;
  description?: string;
  taskType?: string;
  executionMode?: ExecutionMode;
  executionConfig?: ExecutionConfig;
  status?: 'pending' | 'blocked';
  priority?: Priority;
  branch?: string | null;
  specTaskId?: string | null;
  maxAttempts?: number;
  dependsOn?: string[];
}

export interface CreateTask {
  ticket_id: string;
  title: string;
  description?: string;
  task_type?: string;
  execution_mode?: ExecutionMode;
  execution_config?: ExecutionConfig;
  status?: 'pending' | 'blocked';
  priority?: Priority;
  depends_on?: string[];
  max_attempts?: number;
}

export interface TaskFilter {
  project_id?: string;
  ticket_id?: string;
  status?: TaskStatus;
}

const COLUMNS = `t.id, t.project_id, t.ticket_id, t.title, t.description, t.task_type, t.execution_mode,
  t.execution_config, t.status, t.priority, t.branch, t.spec_task_id, t.claimed_by, t.lease_until, t.attempts,
  t.max_attempts, t.run_after, t.started_at, t.finished_at, t.result, t.error, t.created_at, t.updated_at,
  COALESCE((SELECT array_agg(d.depends_on_task_id::text ORDER BY d.depends_on_task_id)
              FROM task_dependencies d WHERE d.task_id = t.id), ARRAY[]::text[]) AS depends_on`;

/** The execution mode a config implies: spec work explores, everything else implements. */
export function executionModeFor(config: ExecutionConfig): ExecutionMode {
  return config.require_spec_skill ? 'exploration' : 'implementation';
}

/** Throws DEPENDENCY_CYCLE when adding `task -> dependsOn` edges would close a cycle. */
async function assertNoCycle(q: Queryable, taskId: string, dependsOn: string[]): Promise<void> {
  if (dependsOn.length === 0) return;
  if (dependsOn.includes(taskId))
    throw new AppError('DEPENDENCY_CYCLE', `task ${taskId} cannot depend on itself`);
  // A cycle closes when the task is reachable from one of its new dependencies.
  const rows = await q.query<{ path: string[] }>(
    `WITH RECURSIVE reach(id, path) AS (
       SELECT d, ARRAY[$1::uuid, d] FROM unnest($2::uuid[]) AS d
       UNION ALL
       SELECT dep.depends_on_task_id, reach.path || dep.depends_on_task_id
         FROM reach JOIN task_dependencies dep ON dep.task_id = reach.id
        WHERE reach.id <> $1::uuid AND NOT dep.depends_on_task_id = ANY(reach.path[2:])
     )
     SELECT path::text[] AS path FROM reach WHERE id = $1::uuid LIMIT 1`,
    [taskId, dependsOn],
  );
  const cycle = rows[0]?.path;
  if (cycle)
    throw new AppError('DEPENDENCY_CYCLE', `these dependencies would form a cycle: ${cycle.join(' -> ')}`);
}

export function createTasksService(db: Db, events: EventsService) {
  /** Appends one event about `task`, in `tx`. */
  const record = <K extends 'task.created' | 'task.updated' | 'task.cancelled' | 'task.retrying'>(
    tx: Tx,
    task: Task,
    type: K,
    data: EventData<K>,
  ) =>
    events.append(
      { type, projectId: task.project_id, ticketId: task.ticket_id, taskId: task.id, data } as AppendEvent,
      tx,
    );

  async function find(id: string, q: Queryable = db): Promise<Task | null> {
    if (!isUuid(id)) return null;
    const rows = await q.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM tasks t WHERE t.id = $1`, [
      id,
    ]);
    return rows[0] ? plain<Task>(rows[0]) : null;
  }

  async function get(id: string, q: Queryable = db): Promise<Task> {
    const task = await find(id, q);
    if (!task) throw new AppError('NOT_FOUND', `no task with id ${id}`);
    return task;
  }

  /** Checks that every id names a task of the project; throws a 400 listing the others. */
  async function checkDependencies(tx: Queryable, projectId: string, ids: string[]): Promise<void> {
    const bad = ids.filter((id) => !isUuid(id));
    const good = ids.filter(isUuid);
    const found = good.length
      ? await tx.query<{ id: string; project_id: string }>(
          `SELECT id::text AS id, project_id::text AS project_id FROM tasks WHERE id = ANY($1::uuid[])`,
          [good],
        )
      : [];
    const byId = new Map(found.map((r) => [r.id, r.project_id]));
    const missing = [...bad, ...good.filter((id) => !byId.has(id))];
    if (missing.length)
      throw new AppError(
        'VALIDATION_FAILED',
        `depends_on names tasks that do not exist: ${missing.join(', ')}`,
        {
          issues: missing.map((id) => ({ path: ['depends_on'], message: `no task ${id}` })),
        },
      );
    const foreign = good.filter((id) => byId.get(id) !== projectId);
    if (foreign.length)
      throw new AppError(
        'VALIDATION_FAILED',
        `depends_on names tasks of another project: ${foreign.join(', ')}`,
      );
  }

  /** Inserts one task (and its dependencies), writes `task.created`, NOTIFYs when pending. */
  async function insert(tx: Tx, input: NewTask): Promise<Task> {
    const config = input.executionConfig ?? { require_spec_skill: false };
    const dependsOn = [...new Set(input.dependsOn ?? [])];
    await checkDependencies(tx, input.projectId, dependsOn);
    const status = input.status ?? 'pending';
    // The new row as `get` reads it (its depends_on is empty until the dependencies below go in):
    // one round trip fewer under the project's and the event order's locks.
    const rows = await tx.query<Record<string, unknown>>(
      `INSERT INTO tasks AS t (project_id, ticket_id, title, description, task_type, execution_mode,
                               execution_config, status, priority, branch, spec_task_id, max_attempts)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12) RETURNING ${COLUMNS}`,
      [
        input.projectId,
        input.ticketId,
        input.title,
        input.description ?? '',
        input.taskType ?? 'implementation',
        input.executionMode ?? executionModeFor(config),
        config,
        status,
        input.priority ?? 'MEDIUM',
        input.branch ?? null,
        input.specTaskId ?? null,
        input.maxAttempts ?? 3,
      ],
    );
    let task = plain<Task>(rows[0]!);
    if (dependsOn.length) {
      await tx.query(
        `INSERT INTO task_dependencies (task_id, depends_on_task_id) SELECT $1, d FROM unnest($2::uuid[]) AS d`,
        [task.id, dependsOn],
      );
      task = await get(task.id, tx);
    }
    await record(tx, task, 'task.created', {
      title: task.title,
      task_type: task.task_type,
      execution_mode: task.execution_mode,
      execution_config: task.execution_config,
      depends_on: task.depends_on,
      status: task.status,
    });
    if (status === 'pending') await tx.query('SELECT pg_notify($1, $2)', [TASKS_CHANNEL, task.project_id]);
    return task;
  }

  return {
    find,
    get,
    insert,

    /** POST /tasks: a task on an existing ticket. */
    async create(input: CreateTask): Promise<Task> {
      return db.transaction(async (tx) => {
        const tickets = isUuid(input.ticket_id)
          ? await tx.query<{ id: string; project_id: string; ref: string; priority: Priority }>(
              'SELECT id, project_id, ref, priority FROM tickets WHERE id = $1',
              [input.ticket_id],
            )
          : [];
        const ticket = tickets[0];
        if (!ticket) throw new AppError('NOT_FOUND', `no ticket with id ${input.ticket_id}`);
        const config = input.execution_config ?? { require_spec_skill: false };
        return insert(tx, {
          projectId: ticket.project_id,
          ticketId: ticket.id,
          title: input.title,
          description: input.description ?? '',
          taskType: input.task_type ?? (config.require_spec_skill ? 'create_spec' : 'implementation'),
          executionMode: input.execution_mode ?? executionModeFor(config),
          executionConfig: config,
          status: input.status ?? 'pending',
          priority: input.priority ?? ticket.priority,
          branch: specBranch(ticket.ref),
          dependsOn: input.depends_on ?? [],
          ...(input.max_attempts === undefined ? {} : { maxAttempts: input.max_attempts }),
        });
      });
    },

    async list(filter: TaskFilter, limit = 500): Promise<Task[]> {
      const params: unknown[] = [];
      const where: string[] = [];
      for (const key of ['project_id', 'ticket_id', 'status'] as const) {
        const value = filter[key];
        if (value === undefined) continue;
        if (key !== 'status' && !isUuid(value)) return [];
        params.push(value);
        where.push(`t.${key} = $${params.length}`);
      }
      params.push(limit);
      const rows = await db.query<Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM tasks t ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY t.created_at, t.id LIMIT $${params.length}`,
        params,
      );
      return rows.map((r) => plain<Task>(r));
    },

    /** Adds dependencies to a task that has not started; refuses cycles. */
    async addDependencies(taskId: string, dependsOn: string[]): Promise<Task> {
      return db.transaction(async (tx) => {
        const task = await get(taskId, tx);
        if (!['pending', 'blocked'].includes(task.status))
          throw new AppError(
            'CONFLICT',
            `task ${taskId} is ${task.status}; dependencies can change only before it runs`,
          );
        const ids = [...new Set(dependsOn)];
        await checkDependencies(tx, task.project_id, ids);
        // Serialise dependency edits of one project so two concurrent edits cannot close a cycle.
        await tx.query('SELECT id FROM projects WHERE id = $1 FOR UPDATE', [task.project_id]);
        await assertNoCycle(tx, taskId, ids);
        await tx.query(
          `INSERT INTO task_dependencies (task_id, depends_on_task_id)
           SELECT $1, d FROM unnest($2::uuid[]) AS d ON CONFLICT DO NOTHING`,
          [taskId, ids],
        );
        const updated = await get(taskId, tx);
        await record(tx, task, 'task.updated', { depends_on: updated.depends_on });
        return updated;
      });
    },

    /** Cancels a task that has not finished. The orchestrator sees it on its next heartbeat. */
    async cancel(taskId: string, reason = 'cancelled by a user'): Promise<Task> {
      return db.transaction(async (tx) => {
        const task = await get(taskId, tx);
        const rows = await tx.query(
          `UPDATE tasks SET status = 'cancelled', finished_at = now(), lease_until = NULL, error = $2,
                  updated_at = now()
            WHERE id = $1 AND status IN ('pending', 'claimed', 'running', 'awaiting_input', 'blocked') RETURNING id`,
          [taskId, reason],
        );
        if (rows.length === 0) throw new AppError('CONFLICT', `task ${taskId} is already ${task.status}`);
        // Its open question (if it waits for one) is not in anybody's inbox any more.
        await tx.query(
          `UPDATE task_questions SET status = 'cancelled' WHERE task_id = $1 AND status = 'open'`,
          [taskId],
        );
        await record(tx, task, 'task.cancelled', { previous_status: task.status, reason });
        await tx.query('SELECT pg_notify($1, $2)', [TASKS_CHANNEL, task.project_id]);
        return get(taskId, tx);
      });
    },

    /** Puts a failed or cancelled task back in the queue with fresh attempts. */
    async retry(taskId: string): Promise<Task> {
      return db.transaction(async (tx) => {
        const task = await get(taskId, tx);
        const rows = await tx.query(
          `UPDATE tasks SET status = 'pending', attempts = 0, claimed_by = NULL, lease_until = NULL, run_after = NULL,
                  started_at = NULL, finished_at = NULL, error = NULL, result = NULL, updated_at = now()
            WHERE id = $1 AND status IN ('failed', 'cancelled') RETURNING id`,
          [taskId],
        );
        if (rows.length === 0)
          throw new AppError(
            'CONFLICT',
            `task ${taskId} is ${task.status}; only failed or cancelled tasks can be retried`,
          );
        await record(tx, task, 'task.retrying', {
          previous_status: task.status,
          previous_error: task.error,
          by: 'user',
        });
        await tx.query('SELECT pg_notify($1, $2)', [TASKS_CHANNEL, task.project_id]);
        return get(taskId, tx);
      });
    },
  };
}

export type TasksService = ReturnType<typeof createTasksService>;
