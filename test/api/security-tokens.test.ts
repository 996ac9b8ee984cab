// Findings 4, 5 and 7 of issue 12: a worker token dies the moment its task's run ends, whichever
// way it ends (completed, failed, cancelled, handed back, reaped, retried); it is short-lived and
// renewed only by the heartbeat of a running task; it may change only its own ticket's spec
// documents; and no secret (a token, a key, a registered credential) is stored in an event or an
// error, whoever printed it.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REDACTED, redact, registerSecret, unregisterSecret } from '../../src/base/redact.js';
import { createOrchestrator } from '../../src/orchestrator/orchestrator.js';
import { createOrchestratorStore } from '../../src/orchestrator/store.js';
import { createQueue } from '../../src/queue/queue.js';
import type { SandboxExit, SandboxProvider } from '../../src/sandbox/provider.js';
import { describeEachDatabase } from '../support/db.js';
import { eventually } from '../support/wait.js';
import { exampleFiles, makeApi, TEST_REPO, type TestApi, uniqueName } from './support.js';

describe('redact', () => {
  it("replaces Omoi's own secrets by shape and registered values exactly", () => {
    expect(redact('k=omoi_sk_AbCdEf123456789 t=omoi_wt_zzzzzzzzzzzz s=omoi_ss_yyyyyyyyyyyy')).toBe(
      `k=${REDACTED} t=${REDACTED} s=${REDACTED}`,
    );
    registerSecret('sk-ant-model-key-0123456789');
    try {
      expect(redact('Authorization: sk-ant-model-key-0123456789!')).toBe(`Authorization: ${REDACTED}!`);
    } finally {
      unregisterSecret('sk-ant-model-key-0123456789');
    }
    registerSecret('short');
    expect(redact('a short text')).toBe('a short text');
  });
});

describeEachDatabase('security: worker tokens', (getDb) => {
  let api: TestApi;

  beforeAll(async () => {
    api = await makeApi(getDb());
  });
  afterAll(async () => {
    await api?.close();
  });
  // One claimable task at a time: earlier cases may leave tasks pending (reaped, retried).
  beforeEach(async () => {
    await getDb().query(`UPDATE tasks SET status = 'cancelled' WHERE status = 'pending'`);
  });

  async function newTicket(projectId?: string) {
    const project =
      projectId ??
      (await api.request('POST', '/api/v1/projects', { name: uniqueName('tok'), repo_url: TEST_REPO })).body
        .id;
    const t = await api.request('POST', '/api/v1/tickets', {
      project_id: project,
      description: 'Token test',
      workflow_mode: 'spec_driven',
    });
    return { project: project as string, ticket: t.body.ticket.id as string, task: t.body.task.id as string };
  }

  /** A claimed task with a token, as the orchestrator makes them. */
  async function claimed(queue = createQueue(getDb(), { leaseMs: 60_000, backoffBaseMs: 60_000 })) {
    const ids = await newTicket();
    const claim = await queue.claim('test-claimer');
    expect(claim?.id).toBe(ids.task);
    const token = await api.services.keys.mintWorkerToken({
      taskId: ids.task,
      projectId: ids.project,
      ticketId: ids.ticket,
      ttlMs: 60_000,
    });
    return { ...ids, token, queue };
  }

  const works = async (ids: { task: string; token: string }) =>
    (
      await api.request('GET', `/api/v1/tasks/${ids.task}`, undefined, {
        authorization: `Bearer ${ids.token}`,
      })
    ).status;
  const canPost = async (ids: { task: string; token: string }) =>
    (
      await api.request(
        'POST',
        `/api/v1/tasks/${ids.task}/events`,
        { type: 'agent.message', data: { text: 'late' } },
        { authorization: `Bearer ${ids.token}` },
      )
    ).status;
  const revokedInDb = async (taskId: string) =>
    (
      await getDb().query<{ revoked: boolean }>(
        'SELECT bool_and(revoked_at IS NOT NULL) AS revoked FROM worker_tokens WHERE task_id = $1',
        [taskId],
      )
    )[0]?.revoked;

  const ENDINGS: [string, (c: Awaited<ReturnType<typeof claimed>>) => Promise<unknown>][] = [
    ['completed', (c) => c.queue.complete(c.task, 'test-claimer', { ok: true })],
    ['failed', (c) => c.queue.fail(c.task, 'test-claimer', 'broke')],
    ['handed back after a crash (retrying)', (c) => c.queue.retryOrFail(c.task, 'test-claimer', 'crashed')],
    ['handed back at shutdown', (c) => c.queue.release(c.task, 'test-claimer')],
    [
      'cancelled through the API',
      async (c) => expect((await api.request('POST', `/api/v1/tasks/${c.task}/cancel`)).status).toBe(200),
    ],
  ];

  it.each(ENDINGS)('revokes the token when the task is %s', async (_name, end) => {
    const c = await claimed();
    expect(await works(c)).toBe(200);
    await end(c);
    expect(await revokedInDb(c.task)).toBe(true);
    expect(await works(c)).toBe(401);
    expect(await canPost(c)).toBe(401);
  });

  it('revokes the token when the lease runs out and the reaper takes the task back', async () => {
    const c = await claimed(createQueue(getDb(), { leaseMs: 50, backoffBaseMs: 60_000 }));
    expect(await works(c)).toBe(200);
    await new Promise((r) => setTimeout(r, 120));
    const reaped = await c.queue.reap();
    expect(reaped.map((t) => t.id)).toContain(c.task);
    expect(await works(c)).toBe(401);
  });

  it('keeps a retried task on a new token: the failed attempt’s token stays dead', async () => {
    const c = await claimed();
    await c.queue.fail(c.task, 'test-claimer', 'broke');
    expect((await api.request('POST', `/api/v1/tasks/${c.task}/retry`)).status).toBe(200);
    expect(await works(c)).toBe(401);
  });

  it('lets a token of one ticket sync only its own documents, never another ticket’s', async () => {
    const a = await newTicket();
    const b = await newTicket(a.project);
    const tokenA = await api.services.keys.mintWorkerToken({
      taskId: a.task,
      projectId: a.project,
      ticketId: a.ticket,
      ttlMs: 60_000,
    });
    const tokenB = await api.services.keys.mintWorkerToken({
      taskId: b.task,
      projectId: b.project,
      ticketId: b.ticket,
      ttlMs: 60_000,
    });
    const files = await exampleFiles();
    const synced = await api.request(
      'POST',
      `/api/v1/projects/${a.project}/specs/sync`,
      { documents: files },
      {
        authorization: `Bearer ${tokenA}`,
      },
    );
    expect(synced.status).toBe(200);
    const before = await api.services.specs.listForProject(a.project);
    expect(before.every((d) => d.ticket_id === a.ticket)).toBe(true);

    // Ticket B's worker rewrites ticket A's documents: refused whole, nothing changes.
    const tampered = files.map((f) =>
      typeof f.content === 'string'
        ? { ...f, content: f.content.replace(/\n$/, '\n\nInjected by ticket B.\n') }
        : f,
    );
    const attack = await api.request(
      'POST',
      `/api/v1/projects/${a.project}/specs/sync`,
      { documents: tampered },
      {
        authorization: `Bearer ${tokenB}`,
      },
    );
    expect(attack.status).toBe(403);
    expect(attack.body.error.message).toContain('another ticket');
    const after = await api.services.specs.listForProject(a.project);
    expect(after.map((d) => [d.spec_id, d.content_hash])).toEqual(
      before.map((d) => [d.spec_id, d.content_hash]),
    );

    // Sending them unchanged is harmless and allowed; ticket A's own worker may change them.
    const same = await api.request(
      'POST',
      `/api/v1/projects/${a.project}/specs/sync`,
      { documents: files },
      {
        authorization: `Bearer ${tokenB}`,
      },
    );
    expect(same.status).toBe(200);
    const own = await api.request(
      'POST',
      `/api/v1/projects/${a.project}/specs/sync`,
      { documents: tampered },
      {
        authorization: `Bearer ${tokenA}`,
      },
    );
    expect(own.status).toBe(200);
    expect(own.body.updated).toBeGreaterThan(0);
  });

  it('stores a token, a key or a registered secret posted inside event data redacted (finding 4)', async () => {
    const c = await claimed();
    const key = await api.services.keys.create('leaky');
    registerSecret('ghp_registered-credential-000111');
    try {
      const posted = await api.request(
        'POST',
        `/api/v1/tasks/${c.task}/events`,
        {
          type: 'agent.message',
          data: {
            text: `my env: OMOIOS_API_KEY=${c.token}`,
            nested: { list: [`key ${key.key}`, 'ghp_registered-credential-000111'] },
            [c.token]: 'as a key too',
          },
        },
        { authorization: `Bearer ${c.token}` },
      );
      expect(posted.status).toBe(201);
      const rows = await getDb().query<{ data: unknown }>(`SELECT data FROM events WHERE task_id = $1`, [
        c.task,
      ]);
      const stored = JSON.stringify(rows.map((r) => r.data));
      expect(stored).toContain(REDACTED);
      expect(stored).not.toContain(c.token);
      expect(stored).not.toContain(key.key);
      expect(stored).not.toContain('ghp_registered-credential-000111');
      const view = await api.request('GET', `/api/v1/tickets/${c.ticket}`);
      expect(JSON.stringify(view.body)).not.toContain(c.token);
    } finally {
      unregisterSecret('ghp_registered-credential-000111');
    }
  });
});

describeEachDatabase(
  'security: the orchestrator renews a running task’s token and revokes it at the end',
  (getDb) => {
    let api: TestApi;
    beforeAll(async () => {
      api = await makeApi(getDb());
    });
    afterAll(async () => {
      await api?.close();
    });

    it('keeps a short-lived token alive only while the heartbeat runs, and stores nothing it printed', async () => {
      const project = (
        await api.request('POST', '/api/v1/projects', { name: uniqueName('orch'), repo_url: TEST_REPO })
      ).body.id;
      const taskId = randomUUID();
      await getDb().query(
        `INSERT INTO tasks (id, project_id, title, description, max_attempts) VALUES ($1, $2, 't', 'd', 1)`,
        [taskId, project],
      );
      let token = '';
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const exit: SandboxExit = { exitCode: 1, signal: null };
      const provider: SandboxProvider = {
        name: 'scripted',
        availability: async () => ({ available: true }),
        async create({ env }) {
          token = env.OMOIOS_API_KEY!;
          return {
            id: `scripted-${taskId}`,
            provider: 'scripted',
            async *logs() {
              yield { stream: 'stdout' as const, text: `leaking ${env.OMOIOS_API_KEY}`, ts: Date.now() };
              await gate;
              yield {
                stream: 'stderr' as const,
                text: `fatal: auth failed for ${env.OMOIOS_API_KEY}`,
                ts: Date.now(),
              };
            },
            wait: async () => exit,
            cancel: async () => {},
            destroy: async () => {},
          };
        },
      };
      const ttlMs = 1_500;
      const orchestrator = createOrchestrator({
        queue: createQueue(getDb(), { leaseMs: 600, backoffBaseMs: 60_000 }),
        store: createOrchestratorStore(getDb()),
        provider,
        emit: async (event, tx) => {
          await api.services.events.append(event, tx);
        },
        mintToken: (args) => api.services.keys.mintWorkerToken(args),
        renewToken: (id, ms) => api.services.keys.renewWorkerTokens(id, ms),
        onFinished: async (_id, minted) => {
          if (minted) await api.services.keys.revokeWorkerToken(minted);
        },
        log: () => {},
        config: {
          apiUrl: 'http://127.0.0.1:9',
          runtimeName: 'offline',
          runtimeEnv: {},
          maxConcurrency: 1,
          pollMs: 50,
          maxTurns: 3,
          specMaxAttempts: 3,
          tokenTtlMs: ttlMs,
          keepOnFailure: false,
          exclusive: false,
        },
      });
      await orchestrator.start();
      try {
        await eventually(() => token !== '', 'the sandbox to start');
        const started = Date.now();
        const bearer = { authorization: `Bearer ${token}` };
        // Past its first lifetime, the heartbeat has renewed it.
        await new Promise((r) => setTimeout(r, ttlMs + 700));
        expect(Date.now() - started).toBeGreaterThan(ttlMs);
        expect((await api.request('GET', `/api/v1/tasks/${taskId}`, undefined, bearer)).status).toBe(200);
        release();
        await eventually(async () => {
          const rows = await getDb().query<{ status: string }>('SELECT status FROM tasks WHERE id = $1', [
            taskId,
          ]);
          return rows[0]?.status === 'failed';
        }, 'the task to fail');
        expect((await api.request('GET', `/api/v1/tasks/${taskId}`, undefined, bearer)).status).toBe(401);
        const stored = JSON.stringify(
          await getDb().query('SELECT data FROM events WHERE task_id = $1', [taskId]),
        );
        const task = JSON.stringify(
          await getDb().query('SELECT error, result FROM tasks WHERE id = $1', [taskId]),
        );
        expect(stored).toContain('leaking [REDACTED]');
        expect(task).toContain('fatal: auth failed for [REDACTED]');
        expect(stored + task).not.toContain(token);
      } finally {
        release();
        await orchestrator.stop();
      }
    });

    it('gives the token a short life without a heartbeat', async () => {
      const project = (
        await api.request('POST', '/api/v1/projects', { name: uniqueName('ttl'), repo_url: TEST_REPO })
      ).body.id;
      const t = await api.request('POST', '/api/v1/tickets', {
        project_id: project,
        description: 'ttl',
        workflow_mode: 'quick',
      });
      const token = await api.services.keys.mintWorkerToken({
        taskId: t.body.task.id,
        projectId: project,
        ticketId: t.body.ticket.id,
        ttlMs: 300,
      });
      const bearer = { authorization: `Bearer ${token}` };
      expect((await api.request('GET', `/api/v1/tasks/${t.body.task.id}`, undefined, bearer)).status).toBe(
        200,
      );
      await new Promise((r) => setTimeout(r, 500));
      expect((await api.request('GET', `/api/v1/tasks/${t.body.task.id}`, undefined, bearer)).status).toBe(
        401,
      );
      // A renewal cannot bring an expired token back.
      await api.services.keys.renewWorkerTokens(t.body.task.id, 60_000);
      expect((await api.request('GET', `/api/v1/tasks/${t.body.task.id}`, undefined, bearer)).status).toBe(
        401,
      );
    });
  },
);
