// Keys and worker tokens: a worker token reaches its own task, ticket and project on the few routes a
// worker needs and is refused everywhere else; a server off loopback wants a key on every request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/api/main.js';
import { loadServerConfig } from '../../src/core/config.js';
import { describeEachDatabase } from '../support/db.js';
import { exampleFiles, makeApi, TEST_REPO, type TestApi, uniqueName } from './support.js';

describeEachDatabase('keys and worker tokens', (getDb) => {
  let api: TestApi;
  let keyed: TestApi;
  let mine: { project: string; ticket: string; task: string };
  let other: { project: string; ticket: string; task: string };
  let token: string;

  async function seed(target: TestApi) {
    const p = await target.request('POST', '/api/v1/projects', {
      name: uniqueName('auth'),
      repo_url: TEST_REPO,
    });
    const t = await target.request('POST', '/api/v1/tickets', {
      project_id: p.body.id,
      description: 'Spec this',
      workflow_mode: 'spec_driven',
    });
    return { project: p.body.id, ticket: t.body.ticket.id, task: t.body.task.id };
  }

  beforeAll(async () => {
    api = await makeApi(getDb());
    keyed = await makeApi(getDb(), { requireAuth: true });
    mine = await seed(api);
    other = await seed(api);
    token = await api.services.keys.mintWorkerToken({
      taskId: mine.task,
      projectId: mine.project,
      ticketId: mine.ticket,
      ttlMs: 60_000,
    });
  });
  afterAll(async () => {
    await api?.close();
    await keyed?.close();
  });

  const bearer = () => ({ authorization: `Bearer ${token}` });

  it('stores only hashes of keys and tokens', async () => {
    const created = await api.services.keys.create('hash-check');
    const rows = await getDb().query<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE id = $1', [
      created.id,
    ]);
    expect(rows[0]!.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.key_hash).not.toContain(created.key);
    const tokens = await getDb().query<{ token_hash: string }>('SELECT token_hash FROM worker_tokens');
    expect(tokens.every((t) => /^[0-9a-f]{64}$/.test(t.token_hash) && !t.token_hash.includes(token))).toBe(
      true,
    );
    const listed = await api.request('GET', '/api/v1/keys');
    expect(JSON.stringify(listed.body)).not.toContain(created.key);
  });

  it('lets a worker read its task (with ticket, repo and config) and its ticket', async () => {
    const task = await api.request('GET', `/api/v1/tasks/${mine.task}`, undefined, bearer());
    expect(task.status).toBe(200);
    expect(task.body).toMatchObject({
      id: mine.task,
      execution_config: { require_spec_skill: true, selected_skill: 'spec-driven-dev' },
      ticket: { id: mine.ticket },
      project: { id: mine.project },
    });
    // A sandbox knows its repository only as the git broker, never the remote's address.
    expect(task.body.project.repo_url).toBeUndefined();
    const ticket = await api.request('GET', `/api/v1/tickets/${mine.ticket}`, undefined, bearer());
    expect(ticket.status).toBe(200);
  });

  it('lets a worker post events for its task and sync specs of its project (attached to its ticket)', async () => {
    const posted = await api.request(
      'POST',
      `/api/v1/tasks/${mine.task}/events`,
      { type: 'agent.message' },
      bearer(),
    );
    expect(posted.status).toBe(201);
    const synced = await api.request(
      'POST',
      `/api/v1/projects/${mine.project}/specs/sync`,
      { documents: await exampleFiles() },
      bearer(),
    );
    expect(synced.status).toBe(200);
    const docs = await api.request('GET', `/api/v1/tickets/${mine.ticket}/specs`);
    expect(docs.body.documents.length).toBe(synced.body.created);
    // The worker reports spec.synced itself; the server does not write a second one.
    const events = await api.services.events.list({ ticket_id: mine.ticket }, 0, 100);
    expect(events.filter((e) => e.type === 'spec.synced')).toEqual([]);
  });

  const refusals: [string, string, (ids: { mine: typeof mine; other: typeof other }) => string, unknown?][] =
    [
      ['another task', 'GET', ({ other }) => `/api/v1/tasks/${other.task}`],
      ['another ticket', 'GET', ({ other }) => `/api/v1/tickets/${other.ticket}`],
      [
        'events of another task',
        'POST',
        ({ other }) => `/api/v1/tasks/${other.task}/events`,
        { type: 'agent.message' },
      ],
      [
        'a sync of another project',
        'POST',
        ({ other }) => `/api/v1/projects/${other.project}/specs/sync`,
        { documents: [] },
      ],
      ['the project list', 'GET', () => '/api/v1/projects'],
      ['its own project', 'GET', ({ mine }) => `/api/v1/projects/${mine.project}`],
      ['creating a project', 'POST', () => '/api/v1/projects', { name: 'evil', repo_url: TEST_REPO }],
      ['the ticket list', 'GET', () => '/api/v1/tickets'],
      [
        'creating a ticket',
        'POST',
        () => '/api/v1/tickets',
        { project_id: 'x', description: 'x', workflow_mode: 'quick' },
      ],
      ['approving its ticket', 'POST', ({ mine }) => `/api/v1/tickets/${mine.ticket}/approve`],
      ['the specs of its ticket', 'GET', ({ mine }) => `/api/v1/tickets/${mine.ticket}/specs`],
      ['the task list', 'GET', () => '/api/v1/tasks'],
      ['creating a task', 'POST', () => '/api/v1/tasks', { ticket_id: 'x', title: 't' }],
      ['cancelling its own task', 'POST', ({ mine }) => `/api/v1/tasks/${mine.task}/cancel`],
      ['retrying its own task', 'POST', ({ mine }) => `/api/v1/tasks/${mine.task}/retry`],
      ['the event stream', 'GET', ({ mine }) => `/api/v1/events?task_id=${mine.task}`],
      ['creating an API key', 'POST', () => '/api/v1/keys', { name: 'escalate' }],
      ['listing API keys', 'GET', () => '/api/v1/keys'],
    ];

  it.each(refusals)('refuses a worker token: %s', async (_name, method, path, body) => {
    const res = await api.request(method, path({ mine, other }), body, bearer());
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
  });

  it('refuses an expired or revoked worker token', async () => {
    const expired = await api.services.keys.mintWorkerToken({
      taskId: mine.task,
      projectId: mine.project,
      ticketId: mine.ticket,
      ttlMs: -1000,
    });
    const res = await api.request('GET', `/api/v1/tasks/${mine.task}`, undefined, {
      authorization: `Bearer ${expired}`,
    });
    expect(res.status).toBe(401);
    const revoked = await api.services.keys.mintWorkerToken({
      taskId: other.task,
      projectId: other.project,
      ticketId: other.ticket,
      ttlMs: 60_000,
    });
    await api.services.keys.revokeWorkerTokens(other.task);
    const res2 = await api.request('GET', `/api/v1/tasks/${other.task}`, undefined, { 'x-api-key': revoked });
    expect(res2.status).toBe(401);
  });

  it('off loopback: no key is a 401, an API key works, a revoked key is a 401, /health stays open', async () => {
    const none = await keyed.request('GET', '/api/v1/projects');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHORIZED');
    expect((await keyed.request('GET', '/health')).status).toBe(200);
    const { key, id } = await keyed.services.keys.create('ci');
    const ok = await keyed.request('GET', '/api/v1/projects', undefined, { 'x-api-key': key });
    expect(ok.status).toBe(200);
    const viaBearer = await keyed.request('GET', '/api/v1/projects', undefined, {
      authorization: `Bearer ${key}`,
    });
    expect(viaBearer.status).toBe(200);
    await keyed.services.keys.revoke(id);
    const revoked = await keyed.request('GET', '/api/v1/projects', undefined, { 'x-api-key': key });
    expect(revoked.status).toBe(401);
    // A worker token keeps its scope on a keyed server too.
    const scoped = await keyed.request('GET', '/api/v1/projects', undefined, bearer());
    expect(scoped.status).toBe(403);
  });
});

describe('start-up on a public address', () => {
  it('refuses to serve on 0.0.0.0 when no API key exists, and serves when OMOI_API_KEY is set', async () => {
    const { openTestDatabase } = await import('../support/db.js');
    const { createServices } = await import('../../src/core/services.js');
    const { db, cleanup } = await openTestDatabase('pglite');
    try {
      const open = await createServices(db);
      const config = loadServerConfig({ OMOI_HOST: '0.0.0.0', OMOI_PORT: '0' }, { webDir: null });
      expect(config.requireAuth).toBe(true);
      await expect(startServer(config, { services: open })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await open.stop();
      const withKey = await createServices(db, { envApiKey: 'a-long-enough-secret-key' });
      const server = await startServer(
        loadServerConfig(
          { OMOI_HOST: '0.0.0.0', OMOI_PORT: '0', OMOI_API_KEY: 'a-long-enough-secret-key' },
          { webDir: null },
        ),
        { services: withKey },
      );
      try {
        const base = `http://127.0.0.1:${server.port}`;
        expect((await fetch(`${base}/api/v1/projects`)).status).toBe(401);
        const ok = await fetch(`${base}/api/v1/projects`, {
          headers: { 'x-api-key': 'a-long-enough-secret-key' },
        });
        expect(ok.status).toBe(200);
      } finally {
        await server.close();
        await withKey.stop();
      }
    } finally {
      await cleanup();
    }
  });
});
