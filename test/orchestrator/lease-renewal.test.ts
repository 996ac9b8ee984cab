// A run that outlasts its lease keeps its claim only by the orchestrator's heartbeats. The lease here
// is short and a rival reaper (another process's, on its own queue) sweeps all the time, so a
// heartbeat that stops renewing loses the task within a lease or two: the run is stopped as
// "no longer held", the task goes back to pending with task.retrying, and this suite fails in
// seconds instead of a large suite timing out.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatOutcomeLine } from '../../src/contracts/worker-outcome.js';
import { createServices } from '../../src/core/services.js';
import type { Db } from '../../src/db/client.js';
import { createOrchestrator, type OrchestratorEvent } from '../../src/orchestrator/orchestrator.js';
import { createOrchestratorStore } from '../../src/orchestrator/store.js';
import { createQueue } from '../../src/queue/queue.js';
import type { SandboxProvider } from '../../src/sandbox/provider.js';
import { describeEachDatabase } from '../support/db.js';
import { testOrchestratorConfig } from './support.js';

const LEASE_MS = 3_000;
/** How long the sandbox's worker runs: several leases, so only renewals keep the claim. */
const RUN_MS = 3.5 * LEASE_MS;

/** A provider whose worker logs a line now and then for RUN_MS, then succeeds; counts cancels. */
function slowProvider(cancelled: string[]): SandboxProvider {
  return {
    name: 'slow',
    availability: async () => ({ available: true }),
    async create({ taskId }) {
      let stop: (() => void) | null = null;
      const stopped = new Promise<void>((resolve) => {
        stop = resolve;
      });
      let wasCancelled = false;
      return {
        id: `slow-${taskId}`,
        provider: 'slow',
        async *logs() {
          const until = Date.now() + RUN_MS;
          while (Date.now() < until && !wasCancelled) {
            yield { stream: 'stdout' as const, text: 'still working', ts: Date.now() };
            await Promise.race([new Promise((r) => setTimeout(r, 300)), stopped]);
          }
          if (!wasCancelled)
            yield {
              stream: 'stdout' as const,
              text: formatOutcomeLine({ ok: true, branch: 'b', commit: null }).trimEnd(),
              ts: Date.now(),
            };
        },
        wait: async () => (wasCancelled ? { exitCode: null, signal: 'SIGTERM' } : { exitCode: 0 }),
        async cancel() {
          wasCancelled = true;
          cancelled.push(taskId);
          stop?.();
        },
        destroy: async () => {},
      };
    },
  };
}

describeEachDatabase('the orchestrator renews its leases', (getDb) => {
  let services: Awaited<ReturnType<typeof createServices>>;
  let db: Db;

  beforeAll(async () => {
    db = getDb();
    services = await createServices(db);
  });
  afterAll(async () => {
    await services?.events.hub.stop();
  });

  it('keeps a run that outlasts its lease several times, against a reaper sweeping all along', async () => {
    const projectId = randomUUID();
    await db.query(`INSERT INTO projects (id, name, repo_url) VALUES ($1, $2, '/tmp/none')`, [
      projectId,
      `p-${projectId.slice(0, 8)}`,
    ]);
    const taskId = randomUUID();
    await db.query(`INSERT INTO tasks (id, project_id, title, description) VALUES ($1, $2, 't', 'd')`, [
      taskId,
      projectId,
    ]);
    const cancelled: string[] = [];
    const logs: string[] = [];
    const orchestrator = createOrchestrator({
      queue: createQueue(db, { leaseMs: LEASE_MS, backoffBaseMs: 60_000 }),
      store: createOrchestratorStore(db),
      provider: slowProvider(cancelled),
      emit: async (event: OrchestratorEvent, tx) => {
        await services.events.append(event, tx);
      },
      mintToken: async () => 'token',
      log: (message) => logs.push(message),
      config: testOrchestratorConfig({ maxConcurrency: 1 }),
    });
    // Another process's reaper: it hands back whatever lease has run out, a few times a lease.
    const rival = createQueue(db, { leaseMs: LEASE_MS, backoffBaseMs: 60_000 });
    const reapedByRival: string[] = [];
    let sweeping = true;
    const sweeper = (async () => {
      while (sweeping) {
        for (const task of await rival.reap()) reapedByRival.push(task.id);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    await orchestrator.start();
    const leases = new Set<number>();
    const status = async () => {
      const rows = await db.query<{ status: string; attempts: number; lease_until: unknown }>(
        'SELECT status, attempts, lease_until FROM tasks WHERE id = $1',
        [taskId],
      );
      if (rows[0]?.lease_until) leases.add(new Date(String(rows[0].lease_until)).getTime());
      return rows[0]!;
    };
    try {
      const deadline = Date.now() + RUN_MS + 30_000;
      for (;;) {
        const { status: now, attempts } = await status();
        // Done once it finished, or once it was handed back (which a renewing heartbeat prevents).
        if (now === 'completed' || now === 'failed' || (now === 'pending' && Number(attempts) > 0)) break;
        if (Date.now() > deadline) throw new Error(`task still ${now}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      sweeping = false;
      await sweeper;
      await orchestrator.stop();
    }

    expect(reapedByRival).toEqual([]);
    expect(cancelled).toEqual([]);
    expect(logs.filter((line) => line.includes('no longer held'))).toEqual([]);
    const { status: final, attempts } = await status();
    expect({ final, attempts: Number(attempts) }).toEqual({ final: 'completed', attempts: 1 });
    const events = await db.query<{ type: string }>(
      `SELECT type FROM events WHERE task_id = $1 AND type LIKE 'task.%' ORDER BY id`,
      [taskId],
    );
    expect(events.map((e) => e.type)).toEqual(['task.claimed', 'task.completed']);
    // The lease moved forward while it ran (seen at several distinct deadlines), not once at claim.
    expect(leases.size).toBeGreaterThan(3);
  });
});
