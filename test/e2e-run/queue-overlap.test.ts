// The claim's project lock, proven by holding one claim open at a barrier: a second claimer must
// wait for it and then see the first one's task, so a project's limit holds however claims overlap.
// Likewise the lease: a heartbeat that meets a reaper mid-transaction learns that its claim is gone,
// and a reaper that meets a heartbeat mid-transaction leaves the renewed claim alone.
// PostgreSQL only (PGlite runs one statement at a time, so two transactions never overlap there).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue } from '../../src/queue/queue.js';
import { openQueueTestDatabase, type QueueTestDatabase } from './support/queue-db.js';

const url = process.env.OMOI_TEST_DATABASE_URL;

describe.runIf(url)('queue claims on PostgreSQL, overlapping at a barrier', () => {
  let db: QueueTestDatabase;
  let holder: pg.Client;
  let watcher: pg.Client;

  beforeAll(async () => {
    db = await openQueueTestDatabase(url);
    holder = new pg.Client({ connectionString: url });
    watcher = new pg.Client({ connectionString: url });
    await holder.connect();
    await watcher.connect();
    await holder.query(`SET search_path TO ${db.schema}`);
  });
  afterAll(async () => {
    await holder?.end();
    await watcher?.end();
    await db?.close();
  });

  /** True once a claim of this test's schema waits for a lock (the project row held by `holder`). */
  async function claimWaiting(): Promise<boolean> {
    const rows = await watcher.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND query LIKE '%concurrency_limit%' AND pid <> pg_backend_pid()`,
    );
    return rows.rows[0].n > 0;
  }

  it("a claim waits for another claim of the same project and then respects the project's limit", async () => {
    const queue = createQueue(db.db, { leaseMs: 60_000 });
    const project = randomUUID();
    await db.db.query(
      `INSERT INTO projects (id, name, repo_url, settings) VALUES ($1, 'overlap', '/tmp/x', '{"concurrency_limit": 1}'::jsonb)`,
      [project],
    );
    // B would pick `urgent` first; A holds `later`, so without the project lock B's candidate is a
    // row A never touched, and nothing but the lock makes B wait.
    const [urgent, later] = [randomUUID(), randomUUID()];
    for (const [id, priority] of [
      [urgent, 'HIGH'],
      [later, 'LOW'],
    ] as const)
      await db.db.query(
        `INSERT INTO tasks (id, project_id, title, description, priority) VALUES ($1, $2, 't', 'd', $3)`,
        [id, project, priority],
      );

    // Claimer A, by hand: it holds the project's row and takes a task, but has not committed.
    await holder.query('BEGIN');
    await holder.query('SELECT id FROM projects WHERE id = $1 FOR UPDATE', [project]);
    await holder.query(
      `UPDATE tasks SET status = 'claimed', claimed_by = 'A', lease_until = now() + interval '60 seconds',
              attempts = attempts + 1 WHERE id = $1`,
      [later],
    );

    // Claimer B starts now. It must block on the project row; without that lock it would count
    // zero running tasks (A has not committed) and take the second task past the limit of 1.
    let settled = false;
    const claimB = queue.claim('B').finally(() => {
      settled = true;
    });
    const deadline = Date.now() + 5_000;
    while (!settled && !(await claimWaiting()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const waitedForA = !settled;
    await holder.query('COMMIT');
    const claimed = await claimB;

    expect(waitedForA).toBe(true);
    expect(claimed).toBeNull();
    const active = await db.db.query<{ id: string; claimed_by: string }>(
      `SELECT id::text AS id, claimed_by FROM tasks WHERE project_id = $1 AND status IN ('claimed', 'running')`,
      [project],
    );
    expect(active).toEqual([{ id: later, claimed_by: 'A' }]);
  });

  /** A project with one task claimed by `claimer` whose lease ran out a minute ago. */
  async function expiredClaim(claimer: string): Promise<string> {
    const project = randomUUID();
    const task = randomUUID();
    await db.db.query(`INSERT INTO projects (id, name, repo_url) VALUES ($1, $2, '/tmp/x')`, [
      project,
      `lease-${project}`,
    ]);
    await db.db.query(
      `INSERT INTO tasks (id, project_id, title, description, status, claimed_by, attempts, lease_until)
       VALUES ($1, $2, 't', 'd', 'running', $3, 1, now() - interval '1 minute')`,
      [task, project, claimer],
    );
    return task;
  }

  /** True once a statement of another connection waits for a row lock and contains `text`. */
  async function waiting(text: string): Promise<boolean> {
    const rows = await watcher.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND query LIKE $1 AND pid <> pg_backend_pid()`,
      [`%${text}%`],
    );
    return rows.rows[0].n > 0;
  }

  /** Resolves once `promise` settled or a statement waits on a lock; tells which. */
  async function settledOrWaiting(promise: Promise<unknown>, text: string): Promise<'settled' | 'waiting'> {
    let settled = false;
    void promise.finally(() => {
      settled = true;
    });
    const deadline = Date.now() + 5_000;
    while (!settled && Date.now() < deadline) {
      if (await waiting(text)) return 'waiting';
      await new Promise((r) => setTimeout(r, 20));
    }
    return settled ? 'settled' : 'waiting';
  }

  it('a heartbeat that meets a reaper mid-transaction is told the claim is gone', async () => {
    const queue = createQueue(db.db, { leaseMs: 60_000 });
    const task = await expiredClaim('A');
    // Another process's reaper, by hand: it has handed the task back but not committed.
    await holder.query('BEGIN');
    await holder.query(
      `UPDATE tasks SET status = 'pending', claimed_by = NULL, lease_until = NULL WHERE id = $1`,
      [task],
    );
    const beat = queue.heartbeat(task, 'A');
    const state = await settledOrWaiting(beat, 'lease_until = now()');
    await holder.query('COMMIT');
    expect(state).toBe('waiting');
    // Renewing a lease it no longer holds would let two processes run the task.
    expect(await beat).toBe(false);
    const rows = await db.db.query<{ status: string; claimed_by: string | null; lease_until: unknown }>(
      'SELECT status, claimed_by, lease_until FROM tasks WHERE id = $1',
      [task],
    );
    expect(rows).toEqual([{ status: 'pending', claimed_by: null, lease_until: null }]);
  });

  it('a reaper that meets a heartbeat mid-transaction skips the task and leaves the renewed claim', async () => {
    const queue = createQueue(db.db, { leaseMs: 60_000 });
    const task = await expiredClaim('A');
    // The holder's heartbeat, by hand: it renewed the lease but has not committed.
    await holder.query('BEGIN');
    await holder.query(`UPDATE tasks SET lease_until = now() + interval '60 seconds' WHERE id = $1`, [task]);
    const reaped = queue.reap();
    const state = await settledOrWaiting(reaped, 'SKIP LOCKED');
    const during = state === 'settled' ? await reaped : null;
    await holder.query('COMMIT');
    // The reaper does not queue behind a live claim (it would stall every reap on one slow row)…
    expect(state).toBe('settled');
    expect(during?.filter((r) => r.id === task)).toEqual([]);
    // …and once the heartbeat committed, the lease is current: nothing to reap.
    expect((await queue.reap()).filter((r) => r.id === task)).toEqual([]);
    const rows = await db.db.query<{ status: string; claimed_by: string }>(
      'SELECT status, claimed_by FROM tasks WHERE id = $1',
      [task],
    );
    expect(rows).toEqual([{ status: 'running', claimed_by: 'A' }]);
  });
});
