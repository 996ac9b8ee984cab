// The worker-only surface (issue 12, finding 1): a second listener that takes task tokens and
// nothing else. On the operator's loopback API a request without a key is the local user; on the
// surface it is refused, and so is an API key. A worker token reaches only its own task's routes,
// and routes other parts of the server mount there (the git broker, the model pass-through) see
// the verified worker principal. Over the real unix socket in the data folder.
import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createWorkerSurface,
  type RunningWorkerSurface,
  startWorkerSurface,
  type WorkerSurfaceEnv,
  workerSocketPath,
} from '../../src/api/worker-surface.js';
import { makeApi, TEST_REPO, type TestApi, uniqueName } from '../api/support.js';
import { describeEachDatabase } from '../support/db.js';

function call(
  socketPath: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
  // biome-ignore lint/suspicious/noExplicitAny: reports and bodies are asserted field by field
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describeEachDatabase('the worker-only surface', (getDb) => {
  let api: TestApi;
  let surface: RunningWorkerSurface;
  let dataDir: string;
  let mine: { project: string; ticket: string; task: string };
  let other: { project: string; ticket: string; task: string };
  let token: string;
  let apiKey: string;

  async function seed() {
    const p = await api.request('POST', '/api/v1/projects', {
      name: uniqueName('surface'),
      repo_url: TEST_REPO,
    });
    const t = await api.request('POST', '/api/v1/tickets', {
      project_id: p.body.id,
      description: 'Spec this',
      workflow_mode: 'spec_driven',
    });
    return { project: p.body.id, ticket: t.body.ticket.id, task: t.body.task.id };
  }

  beforeAll(async () => {
    api = await makeApi(getDb());
    mine = await seed();
    other = await seed();
    token = await api.services.keys.mintWorkerToken({
      taskId: mine.task,
      projectId: mine.project,
      ticketId: mine.ticket,
      ttlMs: 60_000,
    });
    apiKey = (await api.services.keys.create('operator')).key;
    const mounted = new Hono<WorkerSurfaceEnv>();
    mounted.get('/whoami', (c) => c.json({ task: c.get('principal').taskId }));
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    dataDir = await mkdtemp(join(tmpdir(), 'omoi-surface-'));
    surface = await startWorkerSurface(
      createWorkerSurface({
        api: api.app,
        keys: api.services.keys,
        mounts: [{ path: '/api/v1/git', app: mounted }],
      }),
      { dataDir },
    );
  });
  afterAll(async () => {
    await surface?.close();
    await api?.close();
  });

  it('listens on <data>/run/worker.sock, which only the server user may open', async () => {
    expect(surface.socketPath).toBe(workerSocketPath(dataDir));
    expect((await stat(surface.socketPath)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'run'))).mode & 0o777).toBe(0o700);
    expect(surface.url).toBeNull();
  });

  it('refuses a request without a token, where the loopback API would take it as the local user', async () => {
    expect((await api.request('GET', '/api/v1/projects')).status).toBe(200);
    const res = await call(surface.socketPath, 'GET', '/api/v1/projects');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
    expect(
      (
        await call(
          surface.socketPath,
          'POST',
          '/api/v1/keys',
          { 'content-type': 'application/json' },
          '{"name":"x"}',
        )
      ).status,
    ).toBe(401);
  });

  it('refuses API keys: the surface is for task tokens only', async () => {
    const res = await call(surface.socketPath, 'GET', '/api/v1/projects', { 'x-api-key': apiKey });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(/task tokens only/);
    expect(
      (
        await call(surface.socketPath, 'GET', `/api/v1/tasks/${mine.task}`, {
          authorization: `Bearer ${apiKey}`,
        })
      ).status,
    ).toBe(403);
  });

  it('serves a worker token its own task, ticket, events and specs, and nothing else', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const task = await call(surface.socketPath, 'GET', `/api/v1/tasks/${mine.task}`, auth);
    expect(task.status).toBe(200);
    expect(task.body.id).toBe(mine.task);
    expect((await call(surface.socketPath, 'GET', `/api/v1/tickets/${mine.ticket}`, auth)).status).toBe(200);
    const posted = await call(
      surface.socketPath,
      'POST',
      `/api/v1/tasks/${mine.task}/events`,
      { ...auth, 'content-type': 'application/json' },
      JSON.stringify({ type: 'agent.message', data: { text: 'hello' } }),
    );
    expect(posted.status).toBeLessThan(300);
    for (const [method, path] of [
      ['GET', `/api/v1/tasks/${other.task}`],
      ['GET', `/api/v1/tickets/${other.ticket}`],
      ['GET', '/api/v1/projects'],
      ['POST', '/api/v1/keys'],
      ['GET', '/api/v1/tasks'],
      ['POST', `/api/v1/tasks/${mine.task}/cancel`],
      ['POST', `/api/v1/projects/${other.project}/specs/sync`],
    ] as const) {
      const res = await call(
        surface.socketPath,
        method,
        path,
        { ...auth, 'content-type': 'application/json' },
        method === 'POST' ? '{}' : undefined,
      );
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
    }
  });

  it('takes the token as the password of Basic auth (git) and hands mounted routes the worker principal', async () => {
    const basic = `Basic ${Buffer.from(`x-task:${token}`).toString('base64')}`;
    const res = await call(surface.socketPath, 'GET', '/api/v1/git/whoami', { authorization: basic });
    expect(res).toEqual({ status: 200, body: { task: mine.task } });
    expect((await call(surface.socketPath, 'GET', '/api/v1/git/whoami')).status).toBe(401);
  });

  it('also listens on OMOI_WORKER_PORT for remote sandboxes, with the same rules', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const other = await startWorkerSurface(createWorkerSurface({ api: api.app, keys: api.services.keys }), {
      dataDir: await mkdtemp(join(tmpdir(), 'omoi-surface-tcp-')),
      port: 0,
    });
    try {
      expect(other.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${other.url}/api/v1/projects`)).status).toBe(401);
      const own = await fetch(`${other.url}/api/v1/tasks/${mine.task}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(own.status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('refuses a revoked token', async () => {
    const short = await api.services.keys.mintWorkerToken({
      taskId: mine.task,
      projectId: mine.project,
      ticketId: mine.ticket,
      ttlMs: 60_000,
    });
    expect(
      (
        await call(surface.socketPath, 'GET', `/api/v1/tasks/${mine.task}`, {
          authorization: `Bearer ${short}`,
        })
      ).status,
    ).toBe(200);
    await api.services.keys.revokeWorkerTokens(mine.task);
    expect(
      (
        await call(surface.socketPath, 'GET', `/api/v1/tasks/${mine.task}`, {
          authorization: `Bearer ${short}`,
        })
      ).status,
    ).toBe(401);
  });
});
