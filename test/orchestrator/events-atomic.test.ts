// A task's status change and its event commit together: the orchestrator appends task.completed /
// task.failed / task.retrying in the queue's own transaction, wired to the events service as the
// server wires it. A failure while appending (here injected; in life the process dying between
// the two) leaves neither the change nor the event, never a completed task without its event.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatOutcomeLine, type WorkerOutcome } from '../../src/contracts/worker-outcome.js';
import { createServices } from '../../src/core/services.js';
import type { Db } from '../../src/db/client.js';
import { createOrchestrator, type OrchestratorEvent } from '../../src/orchestrator/orchestrator.js';
import { createOrchestratorStore } from '../../src/orchestrator/store.js';
import { createQueue } from '../../src/queue/queue.js';
import type { SandboxExit, SandboxProvider } from '../../src/sandbox/provider.js';
import { describeEachDatabase } from '../support/db.js';
import { testOrchestratorConfig } from './support.js';

/** A provider whose "worker" prints the given outcome line and exits as told, at once. */
function scriptedProvider(exitOf: () => SandboxExit, outcome: WorkerOutcome | null): SandboxProvider {
  return {
    name: 'scripted',
    availability: async () => ({ available: true }),
    async create({ taskId }) {
      return {
        id: `scripted-${taskId}`,
        provider: 'scripted',
        async *logs() {
          yield { stream: 'stdout' as const, text: 'working', ts: Date.now() };
          if (outcome)
            yield {
              stream: 'stdout' as const,
              text: formatOutcomeLine(outcome).trimEnd(),
              ts: Date.now(),
            };
        },
        wait: async () => exitOf(),
        cancel: async () => {},
        destroy: async () => {},
      };
    },
  };
}

async function until<T>(probe: () => Promise<T | false | null | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describeEachDatabase('orchestrator status changes and their events', (getDb) => {
  let services: Awaited<ReturnType<typeof createServices>>;
  let db: Db;

  beforeAll(async () => {
    db = getDb();
    services = await createServices(db);
  });
  afterAll(async () => {
    await services?.events.hub.stop();
  });

  async function newProject(): Promise<string> {
    const id = randomUUID();
    await db.query(`INSERT INTO projects (id, name, repo_url) VALUES ($1, $2, '/tmp/none')`, [
      id,
      `p-${id.slice(0, 8)}`,
    ]);
    return id;
  }

  /** Runs one fresh task through an orchestrator; `failOn` makes appending that event type throw. */
  async function runOne(options: {
    exit: SandboxExit;
    outcome: WorkerOutcome | null;
    failOn?: string;
    maxAttempts?: number;
  }) {
    const projectId = await newProject();
    const taskId = randomUUID();
    await db.query(
      `INSERT INTO tasks (id, project_id, title, description, max_attempts) VALUES ($1, $2, 't', 'd', $3)`,
      [taskId, projectId, options.maxAttempts ?? 3],
    );
    const logs: string[] = [];
    /** The task's status each time the orchestrator settled it (src/core/flow.ts in the server). */
    const settled: string[] = [];
    const orchestrator = createOrchestrator({
      queue: createQueue(db, { leaseMs: 60_000, backoffBaseMs: 60_000 }),
      store: createOrchestratorStore(db),
      provider: scriptedProvider(() => options.exit, options.outcome),
      // As src/orchestrator/index.ts wires it for the server.
      emit: async (event: OrchestratorEvent, tx) => {
        if (event.taskId === taskId && event.type === options.failOn) throw new Error('the process died');
        await services.events.append(event, tx);
      },
      mintToken: async () => 'token',
      onTaskChanged: async (id) => {
        if (id !== taskId) return;
        const [row] = await db.query<{ status: string }>(`SELECT status FROM tasks WHERE id = $1`, [id]);
        settled.push(row!.status);
      },
      log: (message) => logs.push(message),
      config: testOrchestratorConfig(),
    });
    await orchestrator.start();
    try {
      // The run is over once this orchestrator logged its crash, or the task was claimed and let go.
      await until(async () => {
        const rows = await db.query<{ status: string; attempts: number }>(
          `SELECT status, attempts FROM tasks WHERE id = $1`,
          [taskId],
        );
        const { status, attempts } = rows[0]!;
        const crashed = logs.some((line) => line.includes(`run of task ${taskId} crashed`));
        const over = Number(attempts) > 0 && status !== 'claimed' && status !== 'running';
        return (crashed || over) && orchestrator.activeCount === 0;
      }, `the run of task ${taskId} to end`);
    } finally {
      await orchestrator.stop();
    }
    const [task] = await db.query<{
      status: string;
      result: unknown;
      error: string | null;
      attempts: number;
      claimed_by: string | null;
    }>(`SELECT status, result, error, attempts, claimed_by FROM tasks WHERE id = $1`, [taskId]);
    const events = await db.query<{ type: string; data: Record<string, unknown> }>(
      `SELECT type, data FROM events WHERE task_id = $1 AND type LIKE 'task.%' ORDER BY id`,
      [taskId],
    );
    return { task: task!, types: events.map((e) => e.type), events, settled };
  }

  it('appends task.completed with the result when the task completes', async () => {
    // The worker's outcome line, with the agent's usage and cost (src/worker/run.ts).
    const outcome: WorkerOutcome = {
      ok: true,
      branch: 'b',
      commit: null,
      usage: { input_tokens: 12, output_tokens: 3 },
      cost_usd: 0.01,
    };
    const { task, types, events, settled } = await runOne({ exit: { exitCode: 0 }, outcome });
    expect(task.status).toBe('completed');
    expect(task.result).toEqual(outcome);
    expect(types).toEqual(['task.claimed', 'task.completed']);
    expect(events[1]?.data).toEqual(outcome);
    // Each change settled once: the run starting, and its end (a third settle, once per run,
    // was a third of the status flow's statements).
    expect(settled).toEqual(['running', 'completed']);
  });

  it('does not complete a task whose task.completed could not be appended', async () => {
    const { task, types } = await runOne({
      exit: { exitCode: 0 },
      outcome: { ok: true, branch: 'b', commit: null },
      failOn: 'task.completed',
    });
    // Still held (its lease will run out and the reaper hands it back), not silently completed.
    expect(task.status).toBe('running');
    expect(types).toEqual(['task.claimed']);
  });

  it('fails a task together with its task.failed, or neither', async () => {
    const failed = await runOne({ exit: { exitCode: 1 }, outcome: { ok: false, error: 'no good' } });
    expect(failed.task).toMatchObject({ status: 'failed', error: 'no good' });
    expect(failed.types).toEqual(['task.claimed', 'task.failed']);

    const stuck = await runOne({
      exit: { exitCode: 1 },
      outcome: { ok: false, error: 'no good' },
      failOn: 'task.failed',
    });
    expect(stuck.task.status).toBe('running');
    expect(stuck.types).toEqual(['task.claimed']);
  });

  it('hands a killed worker’s task back together with its task.retrying, or neither', async () => {
    const retried = await runOne({ exit: { exitCode: null, signal: 'SIGKILL' }, outcome: null });
    expect(retried.task.status).toBe('pending');
    expect(retried.types).toEqual(['task.claimed', 'task.retrying']);

    const stuck = await runOne({
      exit: { exitCode: null, signal: 'SIGKILL' },
      outcome: null,
      failOn: 'task.retrying',
    });
    expect(stuck.task.status).toBe('running');
    expect(stuck.types).toEqual(['task.claimed']);
  });

  it('reaps an expired lease together with its event', async () => {
    const projectId = await newProject();
    const taskId = randomUUID();
    await db.query(
      `INSERT INTO tasks (id, project_id, title, description, status, claimed_by, attempts, lease_until)
       VALUES ($1, $2, 't', 'd', 'running', 'gone', 1, now() - interval '1 minute')`,
      [taskId, projectId],
    );
    const queue = createQueue(db);
    await expect(
      queue.reap({}, async (tx, tasks) => {
        for (const t of tasks) await services.events.append({ type: 'task.retrying', taskId: t.id }, tx);
        throw new Error('the process died');
      }),
    ).rejects.toThrow('the process died');
    const before = await db.query<{ status: string }>(`SELECT status FROM tasks WHERE id = $1`, [taskId]);
    expect(before[0]?.status).toBe('running');
    expect(await db.query(`SELECT 1 FROM events WHERE task_id = $1`, [taskId])).toEqual([]);
  });
});
