// The orchestrator with the real queue on a real database, the real local provider (git clone,
// child processes, bwrap when installed) and a scripted stand-in for `omoi worker`: event order,
// crash recovery, failures without retry storms, and the concurrency limit under load.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOrchestrator,
  type Orchestrator,
  type OrchestratorEvent,
} from '../../src/orchestrator/orchestrator.js';
import { createOrchestratorStore } from '../../src/orchestrator/store.js';
import { createQueue } from '../../src/queue/queue.js';
import { createLocalProvider } from '../../src/sandbox/local.js';
import { openQueueTestDatabase, type QueueTestDatabase } from './support/queue-db.js';

const SCRIPT_WORKER = fileURLToPath(new URL('./fixtures/script-worker.mjs', import.meta.url));

async function eventually<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 90_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let root: string;
let remote: string;
let scripts: string;
let db: QueueTestDatabase;
let orchestrator: Orchestrator;
/** What the orchestrator recorded, read loosely (each test looks at a few fields). */
// biome-ignore lint/suspicious/noExplicitAny: test reads of event data
const events: (Omit<OrchestratorEvent, 'data'> & { data: Record<string, any> })[] = [];
const logs: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'omoi-orch-'));
  // A root server's sandboxes run as `nobody`, who must pass through to the scripts folder.
  await chmod(root, 0o755);
  remote = join(root, 'remote.git');
  scripts = join(root, 'scripts');
  await mkdir(scripts);
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', remote]);
  db = await openQueueTestDatabase();
  const queue = createQueue(db.db, { leaseMs: 3_000, backoffBaseMs: 0 });
  const provider = createLocalProvider({
    dataDir: join(root, 'data'),
    omoiBin: SCRIPT_WORKER,
    path: process.env.PATH ?? '',
    killGraceMs: 1_000,
    // The sandbox sees nothing of the machine unless shared: the scripts the stand-in worker reads.
    shareReadOnly: [scripts],
  });
  orchestrator = createOrchestrator({
    queue,
    store: createOrchestratorStore(db.db),
    provider,
    emit: async (event) => {
      events.push(event as (typeof events)[number]);
    },
    mintToken: async ({ taskId }) => `omoi_wk_${taskId}`,
    log: (m) => logs.push(m),
    config: {
      apiUrl: 'http://127.0.0.1:9',
      runtimeName: 'scripted',
      runtimeEnv: { OMOI_TEST_RUNTIME_SCRIPT: scripts },
      maxConcurrency: 8,
      pollMs: 100,
      maxTurns: 5,
      specMaxAttempts: 3,
      tokenTtlMs: 60_000,
      keepOnFailure: false,
      exclusive: true,
    },
  });
  await orchestrator.start();
});

afterAll(async () => {
  await orchestrator?.stop();
  await db?.close();
  await rm(root, { recursive: true, force: true });
});

async function project(limit: number): Promise<string> {
  const id = randomUUID();
  await db.db.query(`INSERT INTO projects (id, name, repo_url, settings) VALUES ($1, $2, $3, $4::jsonb)`, [
    id,
    `p-${id.slice(0, 6)}`,
    remote,
    JSON.stringify({ concurrency_limit: limit }),
  ]);
  return id;
}

let ticketNumber = 0;
async function specTicket(
  projectId: string,
  behaviour = 'ok',
): Promise<{ taskId: string; ticketId: string }> {
  const ticketId = randomUUID();
  const taskId = randomUUID();
  ticketNumber += 1;
  await db.db.query(
    `INSERT INTO tickets (id, project_id, number, ref, title, workflow_mode) VALUES ($1, $2, $3, $4, 'T', 'spec_driven')`,
    [ticketId, projectId, ticketNumber, `TKT-${String(ticketNumber).padStart(3, '0')}`],
  );
  await writeFile(join(scripts, taskId), behaviour);
  await db.db.query(
    `INSERT INTO tasks (id, project_id, ticket_id, title, execution_mode, execution_config)
     VALUES ($1, $2, $3, 'Plan', 'exploration', $4::jsonb)`,
    [
      taskId,
      projectId,
      ticketId,
      JSON.stringify({ require_spec_skill: true, selected_skill: 'spec-driven-dev' }),
    ],
  );
  orchestrator.wake();
  return { taskId, ticketId };
}

const of = (taskId: string) => events.filter((e) => e.taskId === taskId);
const types = (taskId: string) => of(taskId).map((e) => e.type);
async function status(taskId: string) {
  const rows = await db.db.query<{ status: string; attempts: number; error: string | null }>(
    `SELECT status, attempts, error FROM tasks WHERE id = $1`,
    [taskId],
  );
  return rows[0]!;
}

describe('orchestrator', () => {
  it('runs a spec task: claimed, spawned with skill enforcement, completed; sandbox recorded and removed', async () => {
    const p = await project(4);
    const { taskId, ticketId } = await specTicket(p);
    await eventually(() => types(taskId).includes('task.completed'), 'task.completed');
    const lifecycle = types(taskId).filter((t) => t !== 'sandbox.log');
    expect(lifecycle).toEqual(['task.claimed', 'sandbox.spawned', 'task.completed']);
    const spawned = of(taskId).find((e) => e.type === 'sandbox.spawned')!;
    expect(spawned.data).toMatchObject({
      provider: 'local',
      branch: 'omoi/TKT-001',
      require_spec_skill: true,
      message: 'Spec skill enforcement enabled',
      env: { REQUIRE_SPEC_SKILL: 'true', SELECTED_SKILL: 'spec-driven-dev' },
    });
    expect(logs.some((l) => l.includes('Spec skill enforcement enabled'))).toBe(true);
    // The worker saw the env contract and nothing of this process (which has PATH, HOME, … and
    // in CI a database URL).
    const envLine = of(taskId).find((e) => String(e.data.text).startsWith('ENV '))!;
    const keys = JSON.parse(String(envLine.data.text).slice(4)) as string[];
    expect(keys).not.toContain('DATABASE_URL');
    expect(keys).not.toContain('OMOI_TEST_DATABASE_URL');
    expect(keys).toEqual(
      expect.arrayContaining([
        'OMOIOS_API_URL',
        'OMOIOS_API_KEY',
        'TASK_ID',
        'REPO_URL',
        'WORK_BRANCH',
        'REQUIRE_SPEC_SKILL',
      ]),
    );
    expect(await status(taskId)).toMatchObject({ status: 'completed' });
    const tickets = await db.db.query<{ status: string }>(`SELECT status FROM tickets WHERE id = $1`, [
      ticketId,
    ]);
    expect(tickets[0]?.status).toBe('analyzing');
    const sandboxes = await db.db.query<{ status: string; destroyed_at: unknown }>(
      `SELECT status, destroyed_at FROM sandboxes WHERE task_id = $1`,
      [taskId],
    );
    expect(sandboxes).toHaveLength(1);
    expect(sandboxes[0]?.status).toBe('exited');
    expect(sandboxes[0]?.destroyed_at).not.toBeNull();
  });

  it('fails a task with the worker’s reason and does not retry it', async () => {
    const p = await project(4);
    const { taskId } = await specTicket(p, 'fail');
    await eventually(() => types(taskId).includes('task.failed'), 'task.failed');
    expect(of(taskId).find((e) => e.type === 'task.failed')?.data.error).toBe('scripted failure');
    expect(await status(taskId)).toMatchObject({ status: 'failed', attempts: 1, error: 'scripted failure' });
  });

  it('fails clearly on an unreachable repository, once', async () => {
    const p = await project(4);
    await db.db.query(`UPDATE projects SET repo_url = $2 WHERE id = $1`, [p, join(root, 'gone.git')]);
    const { taskId } = await specTicket(p);
    await eventually(() => types(taskId).includes('task.failed'), 'task.failed');
    const failed = of(taskId).find((e) => e.type === 'task.failed')!;
    expect(String(failed.data.error)).toMatch(/git clone failed/);
    expect(
      of(taskId).some((e) => e.type === 'sandbox.log' && String(e.data.text).includes('sandbox failed')),
    ).toBe(true);
    expect(types(taskId).filter((t) => t === 'task.claimed')).toHaveLength(1);
  });

  it('runs a task again after its worker is killed with SIGKILL, and completes it once', async () => {
    const p = await project(4);
    const { taskId } = await specTicket(p, 'hang');
    const started = await eventually(
      () => of(taskId).find((e) => /worker process started \(pid \d+\)/.test(String(e.data.text))),
      'the worker to start',
    );
    await eventually(() => of(taskId).some((e) => e.data.text === 'HANGING'), 'the worker to hang');
    const pid = Number(/pid (\d+)/.exec(String(started.data.text))?.[1]);
    await writeFile(join(scripts, taskId), 'ok');
    process.kill(pid, 'SIGKILL');
    await eventually(() => types(taskId).includes('task.completed'), 'task.completed after the retry');
    const lifecycle = types(taskId).filter((t) => t !== 'sandbox.log');
    expect(lifecycle).toEqual([
      'task.claimed',
      'sandbox.spawned',
      'task.retrying',
      'task.claimed',
      'sandbox.spawned',
      'task.completed',
    ]);
    expect(await status(taskId)).toMatchObject({ status: 'completed', attempts: 2 });
  });

  it('runs 50 tickets with a project limit of 4: all complete, never more than 4 at once, none twice', async () => {
    const p = await project(4);
    const ids: string[] = [];
    for (let i = 0; i < 50; i += 1) ids.push((await specTicket(p, 'slow')).taskId);
    let maxSeen = 0;
    await eventually(
      async () => {
        const rows = await db.db.query<{ active: string | number; done: string | number }>(
          `SELECT count(*) FILTER (WHERE status IN ('claimed', 'running')) AS active,
                  count(*) FILTER (WHERE status = 'completed') AS done
             FROM tasks WHERE project_id = $1`,
          [p],
        );
        maxSeen = Math.max(maxSeen, Number(rows[0]?.active));
        return Number(rows[0]?.done) === 50;
      },
      '50 tasks to complete',
      300_000,
    );
    expect(maxSeen).toBeLessThanOrEqual(4);
    // From the workers' own START/END lines: never more than 4 overlapping.
    const spans = ids.map((id) => {
      const at = (word: string) =>
        Number(
          String(of(id).find((e) => String(e.data.text).startsWith(`${word} `))?.data.text ?? '').split(
            ' ',
          )[1],
        );
      return [at('START'), at('END')] as const;
    });
    for (const [start] of spans) {
      const overlapping = spans.filter(([s, e]) => s <= start && start < e).length;
      expect(overlapping).toBeLessThanOrEqual(4);
    }
    for (const id of ids) {
      expect(types(id).filter((t) => t === 'task.claimed')).toHaveLength(1);
      expect(types(id).filter((t) => t === 'task.completed')).toHaveLength(1);
    }
  });

  it('stops the sandbox of a task cancelled through the API and leaves the cancellation alone', async () => {
    const p = await project(4);
    const { taskId } = await specTicket(p, 'hang');
    await eventually(() => of(taskId).some((e) => e.data.text === 'HANGING'), 'the worker to hang');
    // What POST /tasks/:id/cancel does to the row; the orchestrator notices on its next heartbeat.
    await db.db.query(`UPDATE tasks SET status = 'cancelled', finished_at = now() WHERE id = $1`, [taskId]);
    const sandbox = await eventually(async () => {
      const rows = await db.db.query<{ status: string }>(`SELECT status FROM sandboxes WHERE task_id = $1`, [
        taskId,
      ]);
      return rows[0]?.status === 'cancelled' ? rows[0] : null;
    }, 'the sandbox to be stopped');
    expect(sandbox.status).toBe('cancelled');
    expect(await status(taskId)).toMatchObject({ status: 'cancelled' });
    expect(types(taskId).filter((t) => t === 'task.completed' || t === 'task.failed')).toEqual([]);
  });

  it('hands running tasks back on stop(), their attempt uncounted', async () => {
    const p = await project(4);
    const { taskId } = await specTicket(p, 'hang');
    await eventually(() => of(taskId).some((e) => e.data.text === 'HANGING'), 'the worker to hang');
    await orchestrator.stop();
    expect(await status(taskId)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(types(taskId).at(-1)).toBe('task.retrying');
  });
});
