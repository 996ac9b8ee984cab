// Finding 6 (keys could not be revoked, any key could mint more) and 14 (the web UI could not send a
// key): roles per route, key list/revoke/expiry, the web login's session cookie, and the migration
// that makes existing keys admin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requiredRole } from '../../src/api/auth.js';
import type { Role } from '../../src/core/keys.js';
import { openDatabase } from '../../src/db/client.js';
import { loadMigrations, migrate } from '../../src/db/migrate.js';
import { describeEachDatabase } from '../support/db.js';
import { type RealServer, startReal } from './security-support.js';
import { exampleFiles, makeApi, TEST_REPO, type TestApi, uniqueName } from './support.js';

interface Ids {
  project: string;
  ticket: string;
  task: string;
}

/** Every route of the API (SSE aside) with the least role it needs and a body that can pass it. */
const ROUTES: { method: string; path: (ids: Ids) => string; role: Role; body?: (ids: Ids) => unknown }[] = [
  { method: 'GET', path: () => '/api/v1/projects', role: 'read' },
  { method: 'GET', path: (i) => `/api/v1/projects/${i.project}`, role: 'read' },
  { method: 'GET', path: (i) => `/api/v1/projects/${i.project}/specs`, role: 'read' },
  { method: 'GET', path: () => '/api/v1/tickets', role: 'read' },
  { method: 'GET', path: (i) => `/api/v1/tickets/${i.ticket}`, role: 'read' },
  { method: 'GET', path: (i) => `/api/v1/tickets/${i.ticket}/specs`, role: 'read' },
  { method: 'GET', path: () => '/api/v1/tasks', role: 'read' },
  { method: 'GET', path: (i) => `/api/v1/tasks/${i.task}`, role: 'read' },
  { method: 'GET', path: () => '/api/v1/session', role: 'read' },
  {
    method: 'POST',
    path: () => '/api/v1/tickets',
    role: 'member',
    body: (i) => ({ project_id: i.project, description: 'Role check', workflow_mode: 'quick' }),
  },
  {
    method: 'POST',
    path: () => '/api/v1/tasks',
    role: 'member',
    body: (i) => ({ project_id: i.project, title: 'Role check', description: 'x' }),
  },
  { method: 'POST', path: (i) => `/api/v1/tasks/${i.task}/cancel`, role: 'member', body: () => ({}) },
  { method: 'POST', path: (i) => `/api/v1/tasks/${i.task}/retry`, role: 'member', body: () => ({}) },
  {
    method: 'POST',
    path: (i) => `/api/v1/tasks/${i.task}/dependencies`,
    role: 'member',
    body: (i) => ({ depends_on: [i.task] }),
  },
  {
    method: 'POST',
    path: (i) => `/api/v1/tasks/${i.task}/events`,
    role: 'member',
    body: () => ({ type: 'agent.message', data: { text: 'hi' } }),
  },
  {
    method: 'POST',
    path: (i) => `/api/v1/projects/${i.project}/specs/sync`,
    role: 'member',
    body: () => 'EXAMPLE',
  },
  {
    method: 'POST',
    path: () => '/api/v1/projects',
    role: 'admin',
    body: () => ({ name: uniqueName('role'), repo_url: TEST_REPO }),
  },
  { method: 'POST', path: (i) => `/api/v1/tickets/${i.ticket}/approve`, role: 'admin', body: () => ({}) },
  { method: 'GET', path: () => '/api/v1/keys', role: 'admin' },
  {
    method: 'POST',
    path: () => '/api/v1/keys',
    role: 'admin',
    body: () => ({ name: 'minted', role: 'read' }),
  },
  { method: 'DELETE', path: () => '/api/v1/keys/00000000-0000-0000-0000-000000000000', role: 'admin' },
];

const RANK: Record<Role, number> = { read: 0, member: 1, admin: 2 };

describe('requiredRole', () => {
  it('needs admin for every write it does not know (deny by default)', () => {
    expect(requiredRole('POST', '/api/v1/projects/x/settings')).toBe('admin');
    expect(requiredRole('PATCH', '/api/v1/tickets/x')).toBe('admin');
    expect(requiredRole('PUT', '/api/v1/anything')).toBe('admin');
  });
});

describeEachDatabase('security: key roles per route', (getDb) => {
  let api: TestApi;
  let ids: Ids;
  let example: unknown[];
  const keys: Partial<Record<Role, string>> = {};

  beforeAll(async () => {
    api = await makeApi(getDb(), { requireAuth: true });
    const admin = await api.services.keys.create('admin', { role: 'admin' });
    keys.admin = admin.key;
    keys.member = (await api.services.keys.create('member', { role: 'member' })).key;
    keys.read = (await api.services.keys.create('read', { role: 'read' })).key;
    const as = { 'x-api-key': admin.key };
    const p = await api.request(
      'POST',
      '/api/v1/projects',
      { name: uniqueName('roles'), repo_url: TEST_REPO },
      as,
    );
    const t = await api.request(
      'POST',
      '/api/v1/tickets',
      { project_id: p.body.id, description: 'Roles', workflow_mode: 'spec_driven' },
      as,
    );
    ids = { project: p.body.id, ticket: t.body.ticket.id, task: t.body.task.id };
    example = await exampleFiles();
  });
  afterAll(async () => {
    await api?.close();
  });

  const cases = ROUTES.flatMap((route) =>
    (['read', 'member', 'admin'] as const).map(
      (role) =>
        [
          `${role} ${route.method} ${route.path({ project: ':p', ticket: ':t', task: ':k' })}`,
          route,
          role,
        ] as const,
    ),
  );

  it.each(cases)('%s', async (_name, route, role) => {
    const body = route.body?.(ids);
    const res = await api.request(
      route.method,
      route.path(ids),
      body === 'EXAMPLE' ? { documents: example } : body,
      { 'x-api-key': keys[role]! },
    );
    const allowed = RANK[role] >= RANK[route.role];
    if (allowed) {
      expect(res.status, JSON.stringify(res.body)).not.toBe(401);
      expect(res.status, JSON.stringify(res.body)).not.toBe(403);
      expect(res.status).toBeLessThan(500);
    } else {
      expect(res.status).toBe(403);
      expect(res.body.error.message).toContain(`needs the ${route.role} role`);
    }
  });

  it('lets only an admin key mint keys (a member cannot mint an admin key)', async () => {
    const byMember = await api.request(
      'POST',
      '/api/v1/keys',
      { name: 'escalate', role: 'admin' },
      { 'x-api-key': keys.member! },
    );
    expect(byMember.status).toBe(403);
    const byAdmin = await api.request(
      'POST',
      '/api/v1/keys',
      { name: 'ok', role: 'member', expires_in: '30d' },
      { 'x-api-key': keys.admin! },
    );
    expect(byAdmin.status).toBe(201);
    expect(byAdmin.body).toMatchObject({ role: 'member', name: 'ok' });
    const days = (new Date(byAdmin.body.expires_at).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
  });

  it('lists keys with role, expiry and last use, and revokes by id and by prefix', async () => {
    const a = await api.services.keys.create('to-revoke-by-id', { role: 'read' });
    const b = await api.services.keys.create('to-revoke-by-prefix', { role: 'read' });
    expect((await api.request('GET', '/api/v1/projects', undefined, { 'x-api-key': a.key })).status).toBe(
      200,
    );
    const listed = await api.request('GET', '/api/v1/keys', undefined, { 'x-api-key': keys.admin! });
    const row = listed.body.keys.find((k: { id: string }) => k.id === a.id);
    expect(row).toMatchObject({ role: 'read', expires_at: null, revoked_at: null });
    expect(row.last_used_at).not.toBeNull();
    expect(JSON.stringify(listed.body)).not.toContain(a.key);

    const byId = await api.request('DELETE', `/api/v1/keys/${a.id}`, undefined, { 'x-api-key': keys.admin! });
    expect(byId.status).toBe(200);
    expect(byId.body.revoked_at).not.toBeNull();
    expect((await api.request('GET', '/api/v1/projects', undefined, { 'x-api-key': a.key })).status).toBe(
      401,
    );

    const byPrefix = await api.request('DELETE', `/api/v1/keys/${b.prefix}`, undefined, {
      'x-api-key': keys.admin!,
    });
    expect(byPrefix.status).toBe(200);
    expect(byPrefix.body.id).toBe(b.id);
    expect((await api.request('GET', '/api/v1/projects', undefined, { 'x-api-key': b.key })).status).toBe(
      401,
    );
    const again = await api.request('DELETE', `/api/v1/keys/${b.id}`, undefined, {
      'x-api-key': keys.admin!,
    });
    expect(again.status).toBe(404);
  });

  it('refuses an expired key', async () => {
    const k = await api.services.keys.create('short', { role: 'read', expiresInMs: 60_000 });
    expect((await api.request('GET', '/api/v1/projects', undefined, { 'x-api-key': k.key })).status).toBe(
      200,
    );
    await getDb().query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [k.id]);
    expect((await api.request('GET', '/api/v1/projects', undefined, { 'x-api-key': k.key })).status).toBe(
      401,
    );
  });
});

describeEachDatabase('security: the web login over a real socket', (getDb) => {
  let real: RealServer;
  beforeAll(async () => {
    real = await startReal(getDb(), {
      OMOI_REQUIRE_KEY: '1',
      OMOI_API_KEY: 'an-operator-key-of-32-characters',
    });
  });
  afterAll(async () => {
    await real?.close();
  });

  const cookieOf = (res: { headers: Record<string, string | string[] | undefined> }) => {
    const raw = res.headers['set-cookie'];
    const line = (Array.isArray(raw) ? raw : [raw ?? '']).find((c) => c.startsWith('omoi_session='));
    return line ?? '';
  };

  it('turns a pasted key into an HttpOnly SameSite=Strict cookie that works for the API and the event stream', async () => {
    const member = await real.services.keys.create('browser', { role: 'member' });
    expect((await real.send('GET', '/api/v1/projects')).status).toBe(401);
    const wrong = await real.send('POST', '/api/v1/session', {
      json: { key: 'omoi_sk_not-a-real-key-at-all' },
    });
    expect(wrong.status).toBe(401);
    const login = await real.send('POST', '/api/v1/session', {
      json: { key: member.key },
      headers: { origin: `http://127.0.0.1:${real.port}` },
    });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ kind: 'api_key', role: 'member', name: 'browser' });
    const setCookie = cookieOf(login);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).not.toContain(member.key);
    const cookie = setCookie.split(';')[0]!;

    const who = await real.send('GET', '/api/v1/session', { headers: { cookie } });
    expect(who.body).toMatchObject({ kind: 'api_key', role: 'member' });
    expect((await real.send('GET', '/api/v1/projects', { headers: { cookie } })).status).toBe(200);
    // A member's cookie cannot do an admin's work.
    const mint = await real.send('POST', '/api/v1/keys', { headers: { cookie }, json: { name: 'x' } });
    expect(mint.status).toBe(403);

    // EventSource sends cookies, not headers: the stream opens with the cookie alone.
    const controller = new AbortController();
    const stream = await fetch(`${real.server.url}/api/v1/events`, {
      headers: { cookie },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    controller.abort();

    const logout = await real.send('DELETE', '/api/v1/session', {
      headers: { cookie, 'content-type': 'application/json' },
    });
    expect(logout.status).toBe(200);
    expect(cookieOf(logout)).toMatch(/omoi_session=;|Max-Age=0/i);
    expect((await real.send('GET', '/api/v1/projects', { headers: { cookie } })).status).toBe(401);
  });

  it('ends the sessions of a revoked key', async () => {
    const k = await real.services.keys.create('revoked-browser', { role: 'read' });
    const login = await real.send('POST', '/api/v1/session', { json: { key: k.key } });
    const cookie = cookieOf(login).split(';')[0]!;
    expect((await real.send('GET', '/api/v1/projects', { headers: { cookie } })).status).toBe(200);
    await real.services.keys.revoke(k.id);
    expect((await real.send('GET', '/api/v1/projects', { headers: { cookie } })).status).toBe(401);
  });
});

describe('security: migration 0002 keeps existing keys as admin', () => {
  it('gives keys made before roles the admin role', async () => {
    const db = await openDatabase({ migrate: false });
    try {
      const all = loadMigrations();
      await migrate(
        db,
        all.filter((m) => m.version === '0001'),
      );
      await db.query(`INSERT INTO api_keys (name, key_hash, prefix) VALUES ('old', 'h', 'omoi_sk_old')`);
      await migrate(
        db,
        all.filter((m) => m.version <= '0002'),
      );
      const rows = await db.query<{ role: string; expires_at: string | null }>(
        `SELECT role, expires_at FROM api_keys`,
      );
      expect(rows).toEqual([{ role: 'admin', expires_at: null }]);
    } finally {
      await db.close();
    }
  });
});
