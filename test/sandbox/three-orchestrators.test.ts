// Several orchestrators share one PostgreSQL: three `omoi start --no-web` processes, many
// spec_driven tickets run by the offline runtime in local sandboxes, one process killed with
// `kill -9` in the middle. Every task must complete exactly once and every ticket's specs must be
// synced, the killed process's tasks being handed to the others after their lease ran out.
//
// Needs PostgreSQL (OMOI_TEST_DATABASE_URL; CI sets it): an embedded PGlite database cannot be
// shared between processes. OMOI_TEST_SCALE_TICKETS sets the ticket count (the 300 by
// default; a smaller number for a quick local run).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitRemote } from '../support/git-remote.js';
import { eventually, freePort } from '../support/wait.js';

const DATABASE_URL = process.env.OMOI_TEST_DATABASE_URL || undefined;
const TICKETS = Number(process.env.OMOI_TEST_SCALE_TICKETS || 300);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const omoiBin = join(repoRoot, 'bin', 'omoi.js');
const LEASE_MS = 4_000;

interface Orchestrator {
  name: string;
  url: string;
  child: ChildProcess;
  output: string[];
}

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

describe.skipIf(!DATABASE_URL)('three orchestrators on one PostgreSQL', () => {
  let root: string;
  let databaseUrl: string;
  let admin: pg.Client;
  let db: pg.Client;
  const databaseName = `omoi_three_${process.pid}_${Date.now()}`;
  const orchestrators: Orchestrator[] = [];

  const start = async (name: string): Promise<Orchestrator> => {
    const port = await freePort();
    const output: string[] = [];
    const child = spawn(process.execPath, [omoiBin, 'start', '--no-web', '--port', String(port)], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? root,
        DATABASE_URL: databaseUrl,
        OMOI_DATA_DIR: join(root, name),
        OMOI_SANDBOX: 'local',
        AGENT_RUNTIME: 'offline',
        OMOI_LEASE_MS: String(LEASE_MS),
        OMOI_POLL_MS: '1000',
        OMOI_MAX_CONCURRENCY: '3',
        OMOI_PROJECT_CONCURRENCY: '100',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const url = `http://127.0.0.1:${port}`;
    await eventually(
      async () => child.exitCode === null && (await fetch(`${url}/api/v1/health`)).ok,
      `${name} to serve (${output.join('')})`,
      60_000,
    );
    const orchestrator = { name, url, child, output };
    orchestrators.push(orchestrator);
    return orchestrator;
  };

  beforeAll(async () => {
    expect(existsSync(join(repoRoot, 'dist', 'cli', 'main.js')), 'run `npm run build` first').toBe(true);
    root = mkdtempSync(join(tmpdir(), 'omoi-three-'));
    admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${databaseName}`);
    const url = new URL(DATABASE_URL ?? '');
    url.pathname = `/${databaseName}`;
    databaseUrl = url.toString();
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    for (const { child } of orchestrators) if (child.exitCode === null) child.kill('SIGKILL');
    await db?.end().catch(() => undefined);
    await admin?.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`).catch(() => undefined);
    await admin?.end().catch(() => undefined);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it(
    `runs ${TICKETS} spec tickets exactly once while one of three processes is killed with kill -9`,
    async () => {
      // A file:// URL: git then clones through its transport. Cloning a plain path copies the
      // object folder, which races with the pushes of other workers (a push's quarantine folder
      // vanishes mid-copy: "failed to copy file … tmp_objdir-incoming-…").
      const remote = pathToFileURL(createGitRemote(root)).href;
      const [a, b, c] = [await start('a'), await start('b'), await start('c')];
      if (!a || !b || !c) throw new Error('three orchestrators did not start');
      const { project } = await api<{ project: { id: string } }>(a.url, 'POST', '/projects', {
        name: 'shop',
        repo_url: remote,
      }).then((body) => ('project' in body ? body : { project: body as unknown as { id: string } }));

      for (let i = 0; i < TICKETS; i += 1) {
        await api(orchestrators[i % 3]?.url ?? a.url, 'POST', '/tickets', {
          project_id: project.id,
          title: `Feature ${i + 1}`,
          description: `As a shopper I want feature number ${i + 1} so that ordering is easier; it must be logged.`,
          workflow_mode: 'spec_driven',
        });
      }

      const completed = async () =>
        Number(
          (await db.query(`SELECT count(*) AS n FROM tasks WHERE status = 'completed'`)).rows[0]?.n ?? 0,
        );
      // Kill one process while it holds work, a third of the way through.
      const held = await eventually(
        async () => {
          if ((await completed()) < Math.ceil(TICKETS / 3)) return false;
          const rows = await db.query(
            `SELECT id FROM tasks WHERE status IN ('claimed', 'running') AND claimed_by LIKE $1`,
            [`%:${b.child.pid}:%`],
          );
          return rows.rows.length ? rows.rows.map((row: { id: string }) => row.id) : false;
        },
        'a third of the tasks done and the victim busy',
        20 * 60_000,
      );
      const victim = `:${b.child.pid}:`;
      b.child.kill('SIGKILL');
      // Until nothing is left to run; then every task must have completed (a failure fails fast).
      await eventually(
        async () =>
          Number(
            (
              await db.query(
                `SELECT count(*) AS n FROM tasks WHERE status IN ('pending', 'claimed', 'running')`,
              )
            ).rows[0]?.n ?? 1,
          ) === 0,
        'every task to finish',
        30 * 60_000,
      );
      const failed = await db.query(`SELECT id, error FROM tasks WHERE status <> 'completed'`);
      expect(failed.rows).toEqual([]);

      const statuses = await db.query(`SELECT status, count(*)::int AS n FROM tasks GROUP BY status`);
      expect(statuses.rows).toEqual([{ status: 'completed', n: TICKETS }]);
      // Completed once: no task has two completion events…
      const twice = await db.query(
        `SELECT task_id FROM events WHERE type = 'task.completed' GROUP BY task_id HAVING count(*) > 1`,
      );
      expect(twice.rows).toEqual([]);
      // …and none without one: a task's completion and its event commit in one transaction, so
      // even the task the killed process was completing has both or neither.
      const silent = await db.query(
        `SELECT t.id, t.claimed_by FROM tasks t
          WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.task_id = t.id AND e.type = 'task.completed')`,
      );
      expect(silent.rows).toEqual([]);
      // Run once, not only completed once: per task, each claim is one attempt and every claim but
      // the first follows a hand-back; no claim spawns two sandboxes or starts two workers (a kill
      // between spawning and recording may leave a handed-back task's counts apart). A task never
      // handed back was claimed, spawned and started exactly once.
      const perTask = await db.query<{
        id: string;
        attempts: number;
        claimed: number;
        retried: number;
        spawned: number;
        sandboxes: number;
        started: number;
      }>(
        `SELECT t.id, t.attempts,
                (SELECT count(*)::int FROM events e WHERE e.task_id = t.id AND e.type = 'task.claimed') AS claimed,
                (SELECT count(*)::int FROM events e WHERE e.task_id = t.id AND e.type = 'task.retrying') AS retried,
                (SELECT count(*)::int FROM events e WHERE e.task_id = t.id AND e.type = 'sandbox.spawned') AS spawned,
                (SELECT count(*)::int FROM sandboxes s WHERE s.task_id = t.id) AS sandboxes,
                (SELECT count(*)::int FROM events e WHERE e.task_id = t.id AND e.type = 'worker.started') AS started
           FROM tasks t`,
      );
      expect(perTask.rows).toHaveLength(TICKETS);
      const offending = perTask.rows.filter(
        (t) =>
          t.claimed !== t.attempts ||
          t.claimed !== t.retried + 1 ||
          t.spawned > t.claimed ||
          t.sandboxes > t.claimed ||
          t.started > t.claimed ||
          (t.retried === 0 && (t.spawned !== 1 || t.sandboxes !== 1 || t.started !== 1)),
      );
      expect(offending).toEqual([]);
      // Every ticket's run synced its specs: each ticket has its ticket document, none twice.
      const ticketDocs = await db.query(
        `SELECT count(DISTINCT ticket_id)::int AS tickets FROM spec_documents WHERE kind = 'ticket'`,
      );
      expect(ticketDocs.rows[0]?.tickets).toBe(TICKETS);
      const duplicated = await db.query(
        `SELECT spec_id FROM spec_documents GROUP BY project_id, spec_id HAVING count(*) > 1`,
      );
      expect(duplicated.rows).toEqual([]);
      // The killed process's tasks went back to the queue when their lease ran out and the others
      // ran them (bar one it may have finished itself just before the kill).
      const handedOver = await db.query(
        `SELECT t.id FROM tasks t WHERE t.id = ANY($1::uuid[]) AND t.claimed_by NOT LIKE $2
            AND EXISTS (SELECT 1 FROM events e WHERE e.task_id = t.id AND e.type = 'task.retrying')`,
        [held, `%${victim}%`],
      );
      expect(handedOver.rows.length).toBeGreaterThan(0);
      expect(a.child.exitCode).toBeNull();
      expect(c.child.exitCode).toBeNull();
    },
    60 * 60_000,
  );
});
