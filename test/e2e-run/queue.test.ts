// Queue semantics on real databases: PGlite always, and the PostgreSQL server named by
// OMOI_TEST_DATABASE_URL when it is set (failing, not skipping, when it is unreachable).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue, type QueueSql } from '../../src/queue/queue.js';
import { type QueueTestDatabase, queueTestTargets } from './support/queue-db.js';

const targets = queueTestTargets();

describe.each(targets)('queue on %s', (_name, open) => {
  let db: QueueTestDatabase;
  let sql: QueueSql;

  beforeAll(async () => {
    db = await open();
    sql = db.db;
  });
  afterAll(async () => {
    await db?.close();
  });

  async function project(limit: number | null = null): Promise<string> {
    const id = randomUUID();
    await sql.query(
      `INSERT INTO projects (id, name, repo_url, settings) VALUES ($1, $2, '/tmp/x', $3::jsonb)`,
      [id, `p-${id.slice(0, 6)}`, JSON.stringify(limit === null ? {} : { concurrency_limit: limit })],
    );
    return id;
  }

  async function task(
    projectId: string,
    opts: { priority?: string; dependsOn?: string[]; max?: number } = {},
  ) {
    const id = randomUUID();
    await sql.query(
      `INSERT INTO tasks (id, project_id, title, description, priority, max_attempts) VALUES ($1, $2, 't', 'd', $3, $4)`,
      [id, projectId, opts.priority ?? 'MEDIUM', opts.max ?? 3],
    );
    for (const dep of opts.dependsOn ?? [])
      await sql.query(`INSERT INTO task_dependencies (task_id, depends_on_task_id) VALUES ($1, $2)`, [
        id,
        dep,
      ]);
    return id;
  }

  async function statusOf(id: string) {
    const rows = await sql.query<{ status: string; attempts: number; claimed_by: string | null }>(
      `SELECT status, attempts, claimed_by FROM tasks WHERE id = $1`,
      [id],
    );
    return { ...rows[0]!, attempts: Number(rows[0]!.attempts) };
  }

  /** Each test gets its own projects; claims only see those by draining older ones first. */
  async function drain(queue: ReturnType<typeof createQueue>) {
    await sql.query(
      `UPDATE tasks SET status = 'cancelled' WHERE status IN ('pending', 'claimed', 'running')`,
    );
    return queue;
  }

  it('claims by priority, once, under a lease', async () => {
    const queue = await drain(createQueue(sql, { leaseMs: 60_000 }));
    const p = await project();
    const low = await task(p, { priority: 'LOW' });
    const high = await task(p, { priority: 'HIGH' });
    const first = await queue.claim('a');
    expect(first?.id).toBe(high);
    expect(first?.attempts).toBe(1);
    const second = await queue.claim('b');
    expect(second?.id).toBe(low);
    expect(await queue.claim('c')).toBeNull();
    expect(await statusOf(high)).toMatchObject({ status: 'claimed', claimed_by: 'a' });
  });

  it('gates a task on its dependencies being completed', async () => {
    const queue = await drain(createQueue(sql));
    const p = await project();
    const a = await task(p);
    const b = await task(p, { dependsOn: [a], priority: 'CRITICAL' });
    expect((await queue.claim('x'))?.id).toBe(a);
    expect(await queue.claim('x')).toBeNull();
    expect(await queue.complete(a, 'x', { ok: true })).toBe(true);
    expect((await queue.claim('x'))?.id).toBe(b);
  });

  it('makes complete and fail idempotent no-ops once finished', async () => {
    const queue = await drain(createQueue(sql));
    const p = await project();
    const a = await task(p);
    await queue.claim('x');
    expect(await queue.complete(a, 'x', { n: 1 })).toBe(true);
    expect(await queue.complete(a, 'x', { n: 2 })).toBe(false);
    expect(await queue.fail(a, 'x', 'late')).toBe(false);
    expect(await queue.complete(a, 'someone-else', {})).toBe(false);
    const rows = await sql.query<{ status: string; result: unknown }>(
      `SELECT status, result FROM tasks WHERE id = $1`,
      [a],
    );
    expect(rows[0]?.status).toBe('completed');
    const result = typeof rows[0]?.result === 'string' ? JSON.parse(rows[0].result) : rows[0]?.result;
    expect(result).toEqual({ n: 1 });
  });

  it('reaps expired leases back to pending with backoff, then to failed after max_attempts', async () => {
    const queue = await drain(createQueue(sql, { backoffBaseMs: 0 }));
    const p = await project();
    const a = await task(p, { max: 2 });
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const claimed = await queue.claim('dead');
      expect(claimed?.id).toBe(a);
      expect(claimed?.attempts).toBe(attempt);
      expect(await queue.reap()).toEqual([]); // lease still valid
      await sql.query(`UPDATE tasks SET lease_until = now() - interval '1 second' WHERE id = $1`, [a]);
      const reaped = await queue.reap();
      expect(reaped.map((r) => [r.id, r.status])).toEqual([[a, attempt < 2 ? 'pending' : 'failed']]);
    }
    expect(await statusOf(a)).toMatchObject({ status: 'failed', attempts: 2, claimed_by: null });
    expect(await queue.heartbeat(a, 'dead')).toBe(false);
  });

  it('loses the claim when the task is cancelled, and release hands it back uncounted', async () => {
    const queue = await drain(createQueue(sql));
    const p = await project();
    const ids = [await task(p), await task(p)];
    const a = (await queue.claim('x'))!.id;
    const b = ids.find((id) => id !== a)!;
    expect(await queue.heartbeat(a, 'x')).toBe(true);
    await sql.query(`UPDATE tasks SET status = 'cancelled' WHERE id = $1`, [a]);
    expect(await queue.heartbeat(a, 'x')).toBe(false);
    expect((await queue.claim('x'))?.id).toBe(b);
    expect(await queue.release(b, 'x')).toBe(true);
    expect(await statusOf(b)).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('never runs more than the project limit at once, even with concurrent claimers', async () => {
    const queue = await drain(createQueue(sql));
    const p = await project(2);
    const other = await project(1);
    for (let i = 0; i < 6; i += 1) await task(p);
    await task(other);
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => queue.claim(`c${i}`)));
    const got = claims.filter((c) => c !== null);
    expect(got.filter((c) => c?.project_id === p)).toHaveLength(2);
    expect(got.filter((c) => c?.project_id === other)).toHaveLength(1);
    expect(new Set(got.map((c) => c?.id)).size).toBe(got.length);
    await queue.complete(
      got.find((c) => c?.project_id === p)!.id,
      got.find((c) => c?.project_id === p)!.claimed_by,
      {},
    );
    expect((await queue.claim('late'))?.project_id).toBe(p);
  });

  it('renews the lease on every heartbeat, so a live run is never reaped', async () => {
    const queue = await drain(createQueue(sql, { leaseMs: 2_000 }));
    const p = await project();
    const a = await task(p);
    expect((await queue.claim('x'))?.id).toBe(a);
    const leaseOf = async () =>
      new Date(
        String(
          (await sql.query<{ lease_until: unknown }>('SELECT lease_until FROM tasks WHERE id = $1', [a]))[0]
            ?.lease_until,
        ),
      ).getTime();
    const first = await leaseOf();
    // Past the original lease: only the heartbeats keep the claim alive.
    for (let i = 0; i < 5; i += 1) {
      await new Promise((r) => setTimeout(r, 600));
      expect(await queue.heartbeat(a, 'x')).toBe(true);
    }
    expect(await leaseOf()).toBeGreaterThan(first + 2_000);
    expect(await queue.reap()).toEqual([]);
    expect(await statusOf(a)).toMatchObject({ status: 'claimed', claimed_by: 'x' });
  });
});
