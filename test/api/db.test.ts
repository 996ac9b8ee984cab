import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { json, openDatabase } from '../../src/db/client.js';
import { acquireDataDirLock, LOCK_FILE } from '../../src/db/lock.js';
import { loadMigrations, migrate } from '../../src/db/migrate.js';
import { describeEachDatabase } from '../support/db.js';

describeEachDatabase('database client', (getDb) => {
  it('has applied every migration once, and migrating again is a no-op', async () => {
    const db = getDb();
    const rows = await db.query<{ version: string }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    expect(rows.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
    expect(await migrate(db)).toEqual([]);
  });

  it('returns int8 as numbers and round-trips jsonb arrays and objects', async () => {
    const db = getDb();
    const [count] = await db.query<{ n: unknown }>('SELECT count(*) AS n FROM schema_migrations');
    expect(typeof count?.n).toBe('number');
    const [row] = await db.query<{ id: unknown; data: unknown }>(
      `INSERT INTO events (type, data) VALUES ('test.json', $1) RETURNING id, data`,
      [json([1, { a: 'b' }, null])],
    );
    expect(typeof row?.id).toBe('number');
    expect(row?.data).toEqual([1, { a: 'b' }, null]);
    const [obj] = await db.query<{ data: unknown }>(`SELECT $1::jsonb AS data`, [
      { nested: { list: [1, 2] } },
    ]);
    expect(obj?.data).toEqual({ nested: { list: [1, 2] } });
  });

  it('commits or rolls back a transaction as a whole and runs afterCommit hooks only on commit', async () => {
    const db = getDb();
    const seen: string[] = [];
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO events (type) VALUES ('test.rolled_back')`);
        tx.afterCommit(() => seen.push('rolled back'));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO events (type) VALUES ('test.committed')`);
      tx.afterCommit(() => seen.push('committed'));
    });
    const rows = await db.query<{ type: string }>(
      `SELECT type FROM events WHERE type IN ('test.rolled_back', 'test.committed')`,
    );
    expect(rows.map((r) => r.type)).toEqual(['test.committed']);
    expect(seen).toEqual(['committed']);
  });

  it('lets a due timer run while a burst of statements is still queued', async () => {
    // PGlite runs statements on this thread: a queue of them used to run back to back, holding off
    // every timer (a 100 ms sandbox run lasted 113 ms) until the last was done.
    const db = getDb();
    let done = 0;
    let doneWhenTimerRan = -1;
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        doneWhenTimerRan = done;
        resolve();
      }, 1),
    );
    const burst = Array.from({ length: 200 }, () =>
      db.query('SELECT count(*) AS n FROM generate_series(1, 2000)').then(() => {
        done += 1;
      }),
    );
    await Promise.all([...burst, timer]);
    expect(done).toBe(200);
    expect(doneWhenTimerRan).toBeGreaterThanOrEqual(0);
    expect(doneWhenTimerRan).toBeLessThan(200);
  });

  it('delivers NOTIFY to listeners, including a notify sent inside a committed transaction', async () => {
    const db = getDb();
    const received: string[] = [];
    const unlisten = await db.listen('omoi_test_channel', (p) => received.push(p));
    await db.notify('omoi_test_channel', 'one');
    await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_notify('omoi_test_channel', 'two')`);
    });
    await waitFor(() => received.length >= 2);
    expect(received).toEqual(['one', 'two']);
    await unlisten();
    await db.notify('omoi_test_channel', 'three');
    await db.query('SELECT 1');
    expect(received).toEqual(['one', 'two']);
  });
});

describe('PGlite data folder', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'omoi-db-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps data across close and reopen, and a second opener fails naming the holder', async () => {
    const dir = fresh();
    const db = await openDatabase({ dataDir: dir });
    await db.query(`INSERT INTO projects (name, repo_url) VALUES ('persisted', '/tmp/repo')`);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    await expect(openDatabase({ dataDir: dir })).rejects.toMatchObject({
      code: 'DATA_DIR_LOCKED',
      message: expect.stringContaining(`process ${process.pid}`),
    });
    await db.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const again = await openDatabase({ dataDir: dir });
    const rows = await again.query<{ name: string }>('SELECT name FROM projects');
    expect(rows.map((r) => r.name)).toEqual(['persisted']);
    await again.close();
  });

  it('takes over the lock of a process that no longer exists', async () => {
    const dir = fresh();
    const child = spawn(process.execPath, ['-e', '']);
    const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid, host: hostname(), started_at: 'x' }));
    const release = acquireDataDirLock(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('refuses a folder locked by a live process', () => {
    const dir = fresh();
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: process.ppid, host: hostname(), started_at: 'x' }),
    );
    expect(() => acquireDataDirLock(dir)).toThrow(`process ${process.ppid}`);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
