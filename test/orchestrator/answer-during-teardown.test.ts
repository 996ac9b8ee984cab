// An answer that comes while the asking run's sandbox is still being removed (the question card
// shows within a second; removing a local workspace takes longer): the task is pending again and
// claimed by a new run before the old run has finished. The old run's end must not touch the new
// run: its worker token stays valid, and the orchestrator still counts it as running.
// (It did both before: the old run revoked every token of the task and deleted the task's entry,
// which was the new run's by then; test/e2e/question-journey.test.ts saw the resumed worker's 401.)
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatOutcomeLine } from '../../src/contracts/worker-outcome.js';
import { createServices } from '../../src/core/services.js';
import type { Db } from '../../src/db/client.js';
import { createOrchestrator } from '../../src/orchestrator/orchestrator.js';
import { createOrchestratorStore } from '../../src/orchestrator/store.js';
import { createQueue } from '../../src/queue/queue.js';
import type { Sandbox, SandboxProvider } from '../../src/sandbox/provider.js';
import { describeEachDatabase } from '../support/db.js';
import { eventually } from '../support/wait.js';
import { testOrchestratorConfig } from './support.js';

describeEachDatabase('an answer while the asking run is still being removed', (getDb) => {
  let services: Awaited<ReturnType<typeof createServices>>;
  let db: Db;

  beforeAll(async () => {
    db = getDb();
    services = await createServices(db);
  });
  afterAll(async () => {
    await services?.events.hub.stop();
  });

  it("leaves the resumed run's token and its place among the active runs alone", async () => {
    const project = await services.projects.create({ name: `teardown-${Date.now()}`, repo_url: '/tmp/none' });
    const { task } = await services.tickets.create({
      project_id: project.id,
      description: 'Add sessions',
      workflow_mode: 'quick',
    });
    await db.query(`UPDATE tasks SET status = 'cancelled' WHERE status = 'pending' AND id <> $1`, [task.id]);

    // The first sandbox's worker asks and ends parked; removing that sandbox waits for the test.
    // The second one (the resumed run) runs until the test ends.
    let releaseFirst = () => {};
    const firstRemoved = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let endSecond = () => {};
    const secondEnds = new Promise<void>((resolve) => {
      endSecond = resolve;
    });
    const tokens: string[] = [];
    const provider: SandboxProvider = {
      name: 'stand-in',
      availability: async () => ({ available: true }),
      async create({ taskId, env }): Promise<Sandbox> {
        tokens.push(env.OMOIOS_API_KEY ?? '');
        const first = tokens.length === 1;
        return {
          id: `stand-in-${tokens.length}`,
          provider: 'stand-in',
          async *logs() {
            if (!first) return;
            // as the worker does: POST /tasks/:id/question parks the task, then the outcome line
            await eventually(
              async () => (await services.tasks.get(taskId)).status === 'running',
              'the run to be marked running',
            );
            await services.questions.ask(taskId, { question: 'Which database?' });
            yield {
              stream: 'stdout' as const,
              text: formatOutcomeLine({ ok: false, error: 'awaiting_input', awaiting_input: true }).trimEnd(),
              ts: Date.now(),
            };
          },
          wait: async () => {
            if (!first) await secondEnds;
            else
              await eventually(
                async () => (await services.tasks.get(taskId)).status === 'awaiting_input',
                'the task to be parked',
              );
            return { exitCode: 0 };
          },
          cancel: async () => endSecond(),
          destroy: async () => {
            if (first) await firstRemoved;
          },
        };
      },
    };
    let finished = 0;
    const orchestrator = createOrchestrator({
      queue: createQueue(db, { leaseMs: 60_000, backoffBaseMs: 60_000 }),
      store: createOrchestratorStore(db),
      provider,
      emit: async (event, tx) => {
        await services.events.append(event, tx);
      },
      mintToken: (args) => services.keys.mintWorkerToken(args),
      // as src/orchestrator/index.ts wires it for the server
      onFinished: async (_taskId, token) => {
        if (token) await services.keys.revokeWorkerToken(token);
        finished += 1;
      },
      log: () => {},
      config: testOrchestratorConfig(),
    });
    await orchestrator.start();
    try {
      await eventually(
        async () => (await services.tasks.get(task.id)).status === 'awaiting_input',
        'the question',
      );
      // The person answers before the first sandbox is gone: the task is claimed again at once.
      await services.questions.answer(task.id, 'PostgreSQL', 'tester');
      await eventually(() => tokens.length === 2, 'the resumed run to get its sandbox');
      expect(await services.keys.verify(tokens[1]!)).not.toBeNull();

      // The first run ends now.
      releaseFirst();
      await eventually(() => finished === 1, 'the first run to end');
      expect(await services.keys.verify(tokens[1]!), "the resumed run's token").not.toBeNull();
      expect(orchestrator.activeCount, 'runs the orchestrator counts').toBe(1);
    } finally {
      releaseFirst();
      endSecond();
      await orchestrator.stop();
    }
  });
});
