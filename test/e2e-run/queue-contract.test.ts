// The rest of the queue's contract, on PGlite and PostgreSQL: markRunning, retryOrFail with its
// backoff, status and nextRunAfter, the stored result of a failure, the defaults, and the `record`
// hooks (run once, in the change's own transaction, only when the change happened; a throwing hook
// undoes the change).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, type QueueSql } from '../../src/queue/queue.js';
import { type QueueTestDatabase, queueTestTargets } from './support/queue-db.js';

const targets = queueTestTargets();

describe.each(targets)('queue contract on %s', (_name, open) => {
  let db: QueueTestDatabase;
  let sql: QueueSql;

  beforeAll(async () => {
    db = await open();
    sql = db.db;
  });
  afterAll(async () => {
    await db?.close();
  });

  /** A fresh project with one pending task (and nothing else ready anywhere). */
  async function oneTask(opts: { max?: number; config?: unknown } = {}) {
    await sql.query(
      `UPDATE tasks SET status = 'cancelled' WHERE status IN ('pending', 'claimed', 'running')`,
    );
    const project = randomUUID();
    const task = randomUUID();
    await sql.query(`INSERT INTO projects (id, name, repo_url) VALUES ($1, $2, '/tmp/x')`, [
      project,
      `q-${project}`,
    ]);
    await sql.query(
      `INSERT INTO tasks (id, project_id, title, description, max_attempts, execution_config)
       VALUES ($1, $2, 't', 'd', $3, $4::jsonb)`,
      [task, project, opts.max ?? 3, JSON.stringify(opts.config ?? {})],
    );
    return task;
  }

  const row = async (id: string) =>
    (
      await sql.query<{ status: string; result: unknown; error: string | null; run_after: unknown }>(
        'SELECT status, result, error, run_after FROM tasks WHERE id = $1',
        [id],
      )
    )[0]!;

  it('has a 30 s lease by default and hands the execution config back parsed', async () => {
    const queue = createQueue(sql);
    expect(queue.leaseMs).toBe(30_000);
    const task = await oneTask({ config: { require_spec_skill: true, selected_skill: 's' } });
    const claimed = await queue.claim('x');
    expect(claimed).toMatchObject({
      id: task,
      execution_config: { require_spec_skill: true, selected_skill: 's' },
    });
    const lease = (
      await sql.query<{ s: number }>(
        'SELECT extract(epoch FROM lease_until - now())::float AS s FROM tasks WHERE id = $1',
        [task],
      )
    )[0]!;
    expect(Number(lease.s)).toBeGreaterThan(25);
    expect(Number(lease.s)).toBeLessThanOrEqual(30);
  });

  it('marks only a held task running, and status reads it', async () => {
    const queue = createQueue(sql);
    const task = await oneTask();
    expect(await queue.status(task)).toBe('pending');
    expect(await queue.status(randomUUID())).toBeNull();
    await queue.claim('x');
    expect(await queue.markRunning(task, 'someone-else')).toBe(false);
    expect(await queue.status(task)).toBe('claimed');
    expect(await queue.markRunning(task, 'x')).toBe(true);
    expect(await queue.status(task)).toBe('running');
  });

  it('retryOrFail hands a crashed run back with backoff, then fails it when attempts are used', async () => {
    const queue = createQueue(sql, { backoffBaseMs: 60_000 });
    const task = await oneTask({ max: 2 });
    const seen: string[] = [];
    const hook = async (_tx: unknown, status: string) => {
      seen.push(status);
    };
    expect(await queue.retryOrFail(task, 'nobody', 'crash', hook)).toBeNull();
    await queue.claim('x');
    expect(await queue.retryOrFail(task, 'x', 'crash 1', hook)).toBe('pending');
    const first = await row(task);
    expect(first).toMatchObject({ status: 'pending', error: 'crash 1' });
    // Backoff: not ready for about a minute, and nextRunAfter says when.
    const next = await queue.nextRunAfter();
    expect(next).not.toBeNull();
    expect(next!.getTime() - Date.now()).toBeGreaterThan(50_000);
    expect(await queue.claim('x')).toBeNull();
    await sql.query('UPDATE tasks SET run_after = NULL WHERE id = $1', [task]);
    expect(await queue.nextRunAfter()).toBeNull();
    await queue.claim('x');
    expect(await queue.retryOrFail(task, 'x', 'crash 2', hook)).toBe('failed');
    expect(await row(task)).toMatchObject({ status: 'failed', error: 'crash 2' });
    expect(seen).toEqual(['pending', 'failed']);
  });

  it('fail stores the result when given and keeps the earlier one otherwise', async () => {
    const queue = createQueue(sql);
    const a = await oneTask();
    await queue.claim('x');
    expect(await queue.fail(a, 'x', 'no good', { ok: false, error: 'no good' })).toBe(true);
    expect(await row(a)).toMatchObject({
      status: 'failed',
      error: 'no good',
      result: { ok: false, error: 'no good' },
    });
    expect(await queue.fail(a, 'x', 'again')).toBe(false);

    const b = await oneTask();
    await sql.query(`UPDATE tasks SET result = '{"partial": 1}'::jsonb WHERE id = $1`, [b]);
    await queue.claim('x');
    expect(await queue.fail(b, 'x', 'later')).toBe(true);
    expect((await row(b)).result).toEqual({ partial: 1 });
  });

  it('runs each hook once, only when the change happened, and a throwing hook undoes the change', async () => {
    const queue = createQueue(sql, { leaseMs: 60_000 });
    for (const change of ['complete', 'fail', 'release'] as const) {
      const task = await oneTask();
      const calls: string[] = [];
      const hook = async (tx: { query: QueueSql['query'] }) => {
        // Inside the change's transaction: the hook sees the new status before it commits.
        calls.push(
          (await tx.query<{ status: string }>('SELECT status FROM tasks WHERE id = $1', [task]))[0]!.status,
        );
      };
      const run = (claimer: string, h: typeof hook) =>
        change === 'complete'
          ? queue.complete(task, claimer, { ok: true }, h)
          : change === 'fail'
            ? queue.fail(task, claimer, 'e', undefined, h)
            : queue.release(task, claimer, h);
      await queue.claim('x');
      expect(await run('not-the-holder', hook)).toBe(false);
      expect(calls).toEqual([]);
      const failing = async () => {
        throw new Error('the process died');
      };
      await expect(run('x', failing)).rejects.toThrow('the process died');
      expect(await queue.status(task)).toBe('claimed');
      expect(await run('x', hook)).toBe(true);
      expect(calls).toEqual([{ complete: 'completed', fail: 'failed', release: 'pending' }[change]]);
    }
  });

  it('reaps with its hook only when something was reaped, and the hook can undo the reap', async () => {
    const queue = createQueue(sql, { leaseMs: 60_000 });
    const task = await oneTask();
    await queue.claim('x');
    let calls = 0;
    expect(await queue.reap({}, async () => void calls++)).toEqual([]);
    expect(calls).toBe(0);
    await sql.query(`UPDATE tasks SET lease_until = now() - interval '1 minute' WHERE id = $1`, [task]);
    await expect(
      queue.reap({}, async () => {
        throw new Error('the process died');
      }),
    ).rejects.toThrow('the process died');
    expect(await queue.status(task)).toBe('claimed');
    const reaped = await queue.reap({}, async (_tx, tasks) => {
      calls += tasks.length;
    });
    expect(reaped.map((r) => r.id)).toEqual([task]);
    expect(calls).toBe(1);
  });
});
