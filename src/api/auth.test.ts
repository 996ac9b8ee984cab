// The rules of src/api/auth.ts one by one: which role each request needs, where a key is read
// from, what a worker token may reach, which Host and Origin headers pass, and what the middleware
// makes of a request without a key. The suites in test/api/ run the same rules through a real
// server; these name each rule's edge so that a changed comparison fails here.
import { networkInterfaces } from 'node:os';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { ServerConfig } from '../core/config.js';
import { loadServerConfig } from '../core/config.js';
import type { KeysService, Principal } from '../core/keys.js';
import {
  allowedHosts,
  authMiddleware,
  checkRole,
  checkWorkerScope,
  forwarded,
  originGuard,
  presentedKey,
  requiredRole,
  SESSION_COOKIE,
  splitHost,
} from './auth.js';
import type { AppEnv } from './context.js';
import { errorResponse } from './errors.js';

const config = (env: Record<string, string> = {}, host = '127.0.0.1', port = 7878): ServerConfig =>
  loadServerConfig({ OMOI_DATA_DIR: '/tmp/omoi-auth-unit', ...env }, { host, port });

const worker: Principal = {
  kind: 'worker',
  tokenId: 'wt1',
  taskId: 'task-1',
  projectId: 'project-1',
  ticketId: 'ticket-1',
};
const key = (role: 'read' | 'member' | 'admin'): Principal => ({
  kind: 'api_key',
  id: 'k1',
  name: 'k',
  role,
});

/** The message of the AppError `fn` throws, with its code. */
function refusal(fn: () => unknown): { code: string; message: string } | null {
  try {
    fn();
    return null;
  } catch (error) {
    const e = error as { code: string; message: string };
    return { code: e.code, message: e.message };
  }
}

describe('requiredRole', () => {
  it('asks read of reads, admin of the key list, member of the member writes, admin of every other write', () => {
    expect(requiredRole('GET', '/api/v1/tickets')).toBe('read');
    expect(requiredRole('HEAD', '/api/v1/tickets')).toBe('read');
    expect(requiredRole('OPTIONS', '/api/v1/tickets')).toBe('read');
    expect(requiredRole('GET', '/api/v1/keys')).toBe('admin');
    expect(requiredRole('GET', '/api/v1/keys/k1')).toBe('admin');
    expect(requiredRole('GET', '/api/v1/keysmith')).toBe('read');
    expect(requiredRole('POST', '/api/v1/tickets')).toBe('member');
    expect(requiredRole('POST', '/api/v1/tasks')).toBe('member');
    for (const action of ['cancel', 'retry', 'dependencies', 'events', 'answer'])
      expect(requiredRole('POST', `/api/v1/tasks/t1/${action}`)).toBe('member');
    expect(requiredRole('POST', '/api/v1/projects/p1/specs/sync')).toBe('member');
    // the same paths with another method, or one segment more, are admin's
    expect(requiredRole('PUT', '/api/v1/tickets')).toBe('admin');
    expect(requiredRole('POST', '/api/v1/tickets/x')).toBe('admin');
    expect(requiredRole('POST', '/api/v1/tasks/t1/cancel/now')).toBe('admin');
    expect(requiredRole('POST', '/api/v1/tickets/abc/approve')).toBe('admin');
    expect(requiredRole('DELETE', '/api/v1/keys/k1')).toBe('admin');
    expect(requiredRole('PATCH', '/api/v1/projects/p1')).toBe('admin');
  });
});

describe('checkRole', () => {
  it('lets each role do what its rank covers and names the role a refused request needs', () => {
    expect(refusal(() => checkRole(key('read'), 'GET', '/api/v1/tickets'))).toBeNull();
    expect(refusal(() => checkRole(key('read'), 'POST', '/api/v1/tickets'))).toEqual({
      code: 'FORBIDDEN',
      message: 'a read key may not POST /api/v1/tickets (it needs the member role)',
    });
    expect(refusal(() => checkRole(key('member'), 'POST', '/api/v1/tickets'))).toBeNull();
    expect(refusal(() => checkRole(key('member'), 'POST', '/api/v1/tickets/t/approve'))).toEqual({
      code: 'FORBIDDEN',
      message: 'a member key may not POST /api/v1/tickets/t/approve (it needs the admin role)',
    });
    expect(refusal(() => checkRole(key('member'), 'GET', '/api/v1/keys'))?.code).toBe('FORBIDDEN');
    expect(refusal(() => checkRole(key('admin'), 'POST', '/api/v1/tickets/t/approve'))).toBeNull();
    expect(refusal(() => checkRole({ kind: 'local' }, 'DELETE', '/api/v1/keys/k1'))).toBeNull();
  });

  it('holds a worker token to its own routes, whatever role a route would need', () => {
    expect(refusal(() => checkRole(worker, 'GET', '/api/v1/tasks/task-1'))).toBeNull();
    expect(refusal(() => checkRole(worker, 'GET', '/api/v1/tickets'))).toEqual({
      code: 'FORBIDDEN',
      message: 'a worker token may not GET /api/v1/tickets',
    });
  });
});

describe('checkWorkerScope', () => {
  it('passes the five worker routes for its own task, ticket and project', () => {
    for (const [method, path] of [
      ['GET', '/api/v1/tasks/task-1'],
      ['POST', '/api/v1/tasks/task-1/events'],
      ['POST', '/api/v1/tasks/task-1/question'],
      ['GET', '/api/v1/tickets/ticket-1'],
      ['POST', '/api/v1/projects/project-1/specs/sync'],
    ] as const)
      expect(
        refusal(() => checkWorkerScope(worker, method, path)),
        `${method} ${path}`,
      ).toBeNull();
    // an id written with percent escapes is the same id
    expect(refusal(() => checkWorkerScope(worker, 'GET', '/api/v1/tasks/task%2D1'))).toBeNull();
  });

  it("refuses another task's, ticket's or project's id, naming what it may reach", () => {
    expect(refusal(() => checkWorkerScope(worker, 'GET', '/api/v1/tasks/task-2'))).toEqual({
      code: 'FORBIDDEN',
      message: 'this worker token may only reach its own task',
    });
    expect(refusal(() => checkWorkerScope(worker, 'GET', '/api/v1/tickets/ticket-2'))?.message).toBe(
      'this worker token may only reach its own ticket',
    );
    expect(
      refusal(() => checkWorkerScope(worker, 'POST', '/api/v1/projects/project-2/specs/sync'))?.message,
    ).toBe('this worker token may only reach its own project');
  });

  it('refuses every other method and path, and an id that is not valid percent-encoding', () => {
    for (const [method, path] of [
      ['POST', '/api/v1/tasks/task-1'],
      ['GET', '/api/v1/tasks/task-1/events'],
      ['POST', '/api/v1/tasks/task-1/answer'],
      ['POST', '/api/v1/tickets/ticket-1/approve'],
      ['GET', '/api/v1/tasks/task-1/extra'],
      ['GET', '/api/v1/tasks/%E0%A4%A'],
    ] as const)
      expect(refusal(() => checkWorkerScope(worker, method, path))).toEqual({
        code: 'FORBIDDEN',
        message: `a worker token may not ${method} ${path}`,
      });
  });

  it('has nothing to say about a principal that is not a worker', () => {
    expect(refusal(() => checkWorkerScope(key('read'), 'DELETE', '/api/v1/keys/k1'))).toBeNull();
  });
});

describe('splitHost', () => {
  it('splits a name and a port, lower-cased, without a trailing dot', () => {
    expect(splitHost('Example.COM:8080')).toEqual({ name: 'example.com', port: 8080 });
    expect(splitHost(' example.com. ')).toEqual({ name: 'example.com', port: null });
    expect(splitHost('[::1]:7878')).toEqual({ name: '[::1]', port: 7878 });
    expect(splitHost('[::1]')).toEqual({ name: '[::1]', port: null });
  });

  it('refuses what is not a host', () => {
    for (const bad of ['', 'a:b:c', 'example.com:', 'example.com:123456', '[zz]:80', 'a b:80x'])
      expect(splitHost(bad), bad).toBeNull();
  });
});

describe('allowedHosts', () => {
  it('answers to the loopback names and the bind address on its own port', () => {
    expect(allowedHosts(config())).toEqual([
      { name: 'localhost', port: 'server' },
      { name: '127.0.0.1', port: 'server' },
      { name: '[::1]', port: 'server' },
      { name: '127.0.0.1', port: 'server' },
    ]);
  });

  it('brackets an IPv6 bind address and lower-cases a named one', () => {
    expect(allowedHosts(config({}, '::1')).at(-1)).toEqual({ name: '[::1]', port: 'server' });
    expect(allowedHosts(config({ OMOI_API_KEY: 'k'.repeat(20) }, 'Omoi.Internal')).at(-1)).toEqual({
      name: 'omoi.internal',
      port: 'server',
    });
  });

  it("adds every address of the machine's interfaces when bound to all of them", () => {
    const hosts = allowedHosts(config({ OMOI_API_KEY: 'k'.repeat(20) }, '0.0.0.0'));
    expect(hosts).toContainEqual({ name: '127.0.0.1', port: 'server' });
    expect(hosts.map((h) => h.name)).not.toContain('0.0.0.0');
  });

  it("adds the public URL's host with its port (any port when it names none) and the allowed hosts", () => {
    expect(allowedHosts(config({ OMOI_PUBLIC_URL: 'https://Omoi.Example.com' })).slice(4)).toEqual([
      { name: 'omoi.example.com', port: 443 },
      { name: 'omoi.example.com', port: null },
    ]);
    expect(allowedHosts(config({ OMOI_PUBLIC_URL: 'http://omoi.example.com' })).slice(4)).toEqual([
      { name: 'omoi.example.com', port: 80 },
      { name: 'omoi.example.com', port: null },
    ]);
    expect(allowedHosts(config({ OMOI_PUBLIC_URL: 'https://omoi.example.com:8443' })).slice(4)).toEqual([
      { name: 'omoi.example.com', port: 8443 },
    ]);
    expect(
      allowedHosts(config({ OMOI_ALLOWED_HOSTS: 'proxy.lan:9000, other.lan, not a host' })).slice(4),
    ).toEqual([
      { name: 'proxy.lan', port: 9000 },
      { name: 'other.lan', port: null },
    ]);
  });
});

describe('presentedKey and forwarded', () => {
  const read = async (headers: Record<string, string>, path = '/api/v1/tickets') => {
    const app = new Hono();
    app.get('*', (c) => {
      try {
        return c.json({ key: presentedKey(c, new URL(c.req.url)) });
      } catch (error) {
        return c.json({ error: (error as Error).message }, 401);
      }
    });
    return (await app.request(path, { headers })).json();
  };

  it('reads X-API-Key first, then a Bearer token, then the session cookie', async () => {
    expect(await read({ 'x-api-key': ' k1 ', authorization: 'Bearer k2' })).toEqual({ key: 'k1' });
    expect(await read({ authorization: 'bearer   k2  ' })).toEqual({ key: 'k2' });
    expect(await read({ authorization: 'Bearer k2', cookie: `${SESSION_COOKIE}=k3` })).toEqual({ key: 'k2' });
    expect(await read({ cookie: `${SESSION_COOKIE}=k3` })).toEqual({ key: 'k3' });
    expect(await read({})).toEqual({ key: null });
  });

  it('refuses an Authorization header that is not a Bearer token', async () => {
    expect(await read({ authorization: 'Basic dXNlcjpwYXNz' })).toEqual({
      error: 'the Authorization header must be "Bearer <key>"',
    });
  });

  it('takes ?access_token= on the event stream only', async () => {
    expect(await read({}, '/api/v1/events?access_token=k4')).toEqual({ key: 'k4' });
    expect(await read({}, '/api/v1/tickets?access_token=k4')).toEqual({ key: null });
  });

  it('knows a request that came through a proxy by any of its headers', () => {
    expect(forwarded(new Headers())).toBe(false);
    for (const h of ['x-forwarded-for', 'forwarded', 'x-real-ip'])
      expect(forwarded(new Headers({ [h]: '10.0.0.1' })), h).toBe(true);
  });
});

/** An app with the guard and one route per method, answering AppErrors as the server does. */
function guarded(serverConfig: ServerConfig) {
  const app = new Hono<AppEnv>();
  app.onError((error, c) => errorResponse(c, error));
  app.use('*', originGuard(serverConfig));
  app.all('*', (c) => c.json({ ok: true }));
  return app;
}

describe('originGuard', () => {
  const app = guarded(
    config({ OMOI_PUBLIC_URL: 'https://omoi.example.com', OMOI_ALLOWED_HOSTS: 'proxy.lan' }),
  );
  const send = async (path: string, init: RequestInit & { headers?: Record<string, string> }) => {
    const res = await app.request(`http://127.0.0.1:7878${path}`, init);
    const json = (await res.json()) as { error?: unknown };
    return { status: res.status, body: (json.error ?? json) as { code?: string; message?: string } };
  };
  const post = (headers: Record<string, string>) =>
    send('/api/v1/tickets', { method: 'POST', headers: { 'content-type': 'application/json', ...headers } });

  it('answers to its own names on its own port, the public host and the allowed hosts', async () => {
    for (const host of [
      '127.0.0.1:7878',
      'localhost:7878',
      '[::1]:7878',
      'LOCALHOST:7878',
      'localhost',
      'omoi.example.com',
      'omoi.example.com:443',
      'omoi.example.com:8443', // a public URL without a port: a proxy may use any
      'proxy.lan:1234',
    ])
      expect((await send('/api/v1/tickets', { headers: { host } })).status, host).toBe(200);
  });

  it('refuses a Host that names another server or another port, saying which', async () => {
    for (const host of ['evil.example:7878', 'localhost:7879', 'omoi.example.com.evil', 'proxy.lan.evil'])
      expect(await send('/api/v1/tickets', { headers: { host } }), host).toEqual({
        status: 403,
        body: {
          code: 'FORBIDDEN',
          message: `this server does not answer to the host "${host}" (add it to OMOI_ALLOWED_HOSTS)`,
        },
      });
  });

  it('lets a worker token through under any Host (workers come through relays)', async () => {
    expect(
      (await send('/api/v1/tasks/t1', { headers: { host: 'relay:1', authorization: 'Bearer omoi_wt_x' } }))
        .status,
    ).toBe(200);
    expect(
      (await send('/api/v1/tasks/t1', { headers: { host: 'relay:1', 'x-api-key': 'omoi_wt_x' } })).status,
    ).toBe(200);
    expect(
      (await send('/api/v1/tasks/t1', { headers: { host: 'relay:1', 'x-api-key': 'omoi_k_x' } })).status,
    ).toBe(403);
  });

  it('wants every API write sent as JSON, also without a body', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await send('/api/v1/tickets', { method, headers: { 'content-type': 'text/plain' } });
      expect(res, method).toEqual({
        status: 415,
        body: {
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: `${method} requests must be sent as application/json (also without a body)`,
        },
      });
      expect((await send('/api/v1/tickets', { method })).status, `${method} without a type`).toBe(415);
    }
    expect((await post({ 'content-type': 'application/merge-patch+json; charset=utf-8' })).status).toBe(200);
    expect((await post({ 'content-type': 'APPLICATION/JSON' })).status).toBe(200);
    expect((await post({ 'content-type': 'application/jsonx' })).status).toBe(415);
    // reads and writes outside the API need no type
    expect((await send('/api/v1/tickets', { method: 'GET' })).status).toBe(200);
    expect((await send('/login', { method: 'POST' })).status).toBe(200);
  });

  it("accepts its own origin, the public URL's and an allowed host's; refuses others", async () => {
    for (const origin of ['http://127.0.0.1:7878', 'https://omoi.example.com', 'http://proxy.lan:5173'])
      expect((await post({ origin })).status, origin).toBe(200);
    for (const origin of [
      'http://evil.example',
      'http://localhost:7878',
      'ftp://127.0.0.1:7878',
      'null',
      'http://127.0.0.1:9999',
    ])
      expect(await post({ origin }), origin).toEqual({
        status: 403,
        body: { code: 'FORBIDDEN', message: `requests from the origin "${origin}" are refused` },
      });
  });

  it('judges by Sec-Fetch-Site when there is no Origin', async () => {
    expect((await post({ 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await post({ 'sec-fetch-site': 'none' })).status).toBe(200);
    expect(await post({ 'sec-fetch-site': 'cross-site' })).toEqual({
      status: 403,
      body: { code: 'FORBIDDEN', message: 'cross-site requests are refused' },
    });
    expect((await post({ 'sec-fetch-site': 'same-site' })).status).toBe(403);
  });
});

describe('authMiddleware', () => {
  const known: Record<string, Principal> = { 'read-key': key('read'), 'member-key': key('member') };
  const keys = { verify: async (secret: string) => known[secret] ?? null } as unknown as KeysService;
  const appFor = (serverConfig: ServerConfig) => {
    const app = new Hono<AppEnv>();
    app.onError((error, c) => errorResponse(c, error));
    app.use('*', authMiddleware(keys, serverConfig));
    app.all('*', (c) => c.json({ principal: c.get('principal') }));
    return app;
  };
  const call = async (
    app: Hono<AppEnv>,
    method: string,
    path: string,
    headers: Record<string, string> = {},
  ) => {
    const res = await app.request(path, { method, headers });
    const json = (await res.json()) as { error?: unknown };
    return { status: res.status, body: (json.error ?? json) as Record<string, unknown> };
  };

  it('makes a request without a key the local user on loopback, unless it came through a proxy', async () => {
    const app = appFor(config());
    expect(await call(app, 'POST', '/api/v1/tickets/t/approve')).toEqual({
      status: 200,
      body: { principal: { kind: 'local' } },
    });
    expect(await call(app, 'GET', '/api/v1/tickets', { 'x-forwarded-for': '10.0.0.1' })).toEqual({
      status: 401,
      body: {
        code: 'UNAUTHORIZED',
        message: 'a request through a proxy needs an API key (X-API-Key or Authorization: Bearer)',
      },
    });
  });

  it('wants a key on every request with OMOI_REQUIRE_KEY or off loopback', async () => {
    const message =
      'this server needs an API key on every request (X-API-Key, Authorization: Bearer, or the web login)';
    for (const app of [
      appFor(config({ OMOI_REQUIRE_KEY: '1' })),
      appFor(config({ OMOI_API_KEY: 'k'.repeat(20) }, '0.0.0.0')),
    ])
      expect(await call(app, 'GET', '/api/v1/tickets')).toEqual({
        status: 401,
        body: { code: 'UNAUTHORIZED', message },
      });
  });

  it('leaves /health, the OpenAPI document and logging in and out open', async () => {
    const app = appFor(config({ OMOI_REQUIRE_KEY: '1' }));
    for (const [method, path] of [
      ['GET', '/health'],
      ['GET', '/api/v1/health'],
      ['GET', '/api/v1/openapi.json'],
      ['POST', '/api/v1/session'],
      ['DELETE', '/api/v1/session'],
    ] as const)
      expect(await call(app, method, path), `${method} ${path}`).toEqual({
        status: 200,
        body: { principal: { kind: 'local' } },
      });
    // who is logged in is not open
    expect((await call(app, 'GET', '/api/v1/session')).status).toBe(401);
  });

  it('acts with the key it was given, and refuses an unknown one or a role too small', async () => {
    const app = appFor(config({ OMOI_REQUIRE_KEY: '1' }));
    expect(await call(app, 'GET', '/api/v1/tickets', { 'x-api-key': 'read-key' })).toEqual({
      status: 200,
      body: { principal: key('read') },
    });
    expect(await call(app, 'GET', '/api/v1/tickets', { 'x-api-key': 'nope' })).toEqual({
      status: 401,
      body: { code: 'UNAUTHORIZED', message: 'the API key or token is unknown, revoked or expired' },
    });
    expect((await call(app, 'POST', '/api/v1/tickets', { 'x-api-key': 'read-key' })).status).toBe(403);
    expect((await call(app, 'POST', '/api/v1/tickets', { 'x-api-key': 'member-key' })).status).toBe(200);
    // a key on loopback is checked too: the local user's exemption is for requests without one
    expect(
      (await call(appFor(config()), 'POST', '/api/v1/projects', { 'x-api-key': 'member-key' })).status,
    ).toBe(403);
  });
});

describe('the edges of each pattern', () => {
  it('matches worker and member routes from the start of the path to its end only', () => {
    for (const [method, path] of [
      ['GET', '/x/api/v1/tasks/task-1'],
      ['POST', '/api/v1/tasks/task-1/events/x'],
      ['POST', '/api/v1/tasks/task-1/question/x'],
      ['GET', '/x/api/v1/tickets/ticket-1'],
      ['POST', '/api/v1/projects/project-1/specs/sync/x'],
    ] as const)
      expect(refusal(() => checkWorkerScope(worker, method, path))?.message, path).toBe(
        `a worker token may not ${method} ${path}`,
      );
    expect(requiredRole('POST', '/x/api/v1/tickets')).toBe('admin');
    expect(requiredRole('POST', '/api/v1/tickets/')).toBe('admin');
    expect(requiredRole('POST', '/x/api/v1/tasks')).toBe('admin');
    expect(requiredRole('POST', '/x/api/v1/tasks/t1/cancel')).toBe('admin');
    expect(requiredRole('POST', '/api/v1/projects/p1/specs/sync/x')).toBe('admin');
    expect(requiredRole('POST', '/x/api/v1/projects/p1/specs/sync')).toBe('admin');
    expect(requiredRole('GET', '/x/api/v1/keys')).toBe('read');
  });

  it('wants the bind address of every interface when bound to all of them (IPv6 in brackets)', () => {
    const addresses = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
    for (const bind of ['0.0.0.0', '::', '[::]']) {
      const hosts = allowedHosts(config({ OMOI_API_KEY: 'k'.repeat(20) }, bind));
      expect(hosts, bind).toHaveLength(3 + addresses.length);
      expect(
        hosts.map((h) => h.name),
        bind,
      ).not.toContain('[::]');
      for (const a of addresses)
        expect(hosts, bind).toContainEqual({
          name: a.family === 'IPv6' ? `[${a.address}]` : a.address,
          port: 'server',
        });
    }
    expect(allowedHosts(config({ OMOI_API_KEY: 'k'.repeat(20) }, '[::1]')).at(-1)).toEqual({
      name: '[::1]',
      port: 'server',
    });
  });
});

describe('originGuard on a socket and at the edges', () => {
  const app = guarded(
    config({
      OMOI_PUBLIC_URL: 'https://omoi.example.com:8443',
      OMOI_ALLOWED_HOSTS: 'tls.lan:443,port.lan:9000,other.lan,second.lan',
    }),
  );
  /** As the Node server calls the app: with the connection's local port. */
  const onSocket = async (
    host: string,
    localPort: number | undefined,
    headers: Record<string, string> = {},
  ) => {
    const env = localPort === undefined ? { incoming: {} } : { incoming: { socket: { localPort } } };
    const res = await app.request('/api/v1/tickets', { headers: { host, ...headers } }, env);
    return res.status;
  };
  const post = async (headers: Record<string, string>) =>
    (
      await app.request('http://127.0.0.1:7878/api/v1/tickets', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
      })
    ).status;

  it("compares a loopback Host's port with the port the connection came in on", async () => {
    expect(await onSocket('localhost:7878', 7878)).toBe(200);
    expect(await onSocket('localhost:7879', 7878)).toBe(403);
    expect(await onSocket('localhost', 7878)).toBe(403);
    expect(await onSocket('localhost', 80)).toBe(200);
    expect(await onSocket('localhost:81', 80)).toBe(403);
    // no socket: in-process, compared with the configured port
    expect(await onSocket('localhost:7878', undefined)).toBe(200);
    expect(await onSocket('localhost:7879', undefined)).toBe(403);
  });

  it('holds a named port to itself, and lets a Host without a port stand for 80 or 443', async () => {
    expect(await onSocket('tls.lan', 7878)).toBe(200);
    expect(await onSocket('tls.lan:443', 7878)).toBe(200);
    expect(await onSocket('tls.lan:80', 7878)).toBe(403);
    expect(await onSocket('port.lan:9000', 7878)).toBe(200);
    expect(await onSocket('port.lan', 7878)).toBe(403);
    expect(await onSocket('omoi.example.com:8443', 7878)).toBe(200);
    expect(await onSocket('omoi.example.com', 7878)).toBe(403);
    expect(await onSocket('omoi.example.com:443', 7878)).toBe(403);
  });

  it('cuts a long Host or Origin to 200 characters in its refusal', async () => {
    const long = `${'a'.repeat(300)}.example`;
    const res = await app.request('/api/v1/tickets', { headers: { host: long } });
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      `this server does not answer to the host "${long.slice(0, 200)}" (add it to OMOI_ALLOWED_HOSTS)`,
    );
    const origin = `http://${'b'.repeat(300)}.example`;
    const refused = await app.request('http://127.0.0.1:7878/api/v1/tickets', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin },
    });
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
      `requests from the origin "${origin.slice(0, 200)}" are refused`,
    );
  });

  it('reads the media type before its parameters, spaces around it ignored, and as a whole', async () => {
    expect(await post({ 'content-type': 'application/json ; charset=utf-8' })).toBe(200);
    expect(await post({ 'content-type': 'text/application/json' })).toBe(415);
  });

  it("compares an Origin with the Host case-insensitively, and accepts any allowed host's origin", async () => {
    const status = async (host: string, origin: string) =>
      (
        await app.request('/api/v1/tickets', {
          method: 'POST',
          headers: { host, origin, 'content-type': 'application/json' },
        })
      ).status;
    expect(await status('localhost:7878', 'http://localhost:7878')).toBe(200);
    expect(await status('LocalHost:7878', 'http://localhost:7878')).toBe(200);
    expect(await status('localhost:7878', 'http://second.lan')).toBe(200);
    expect(await status('localhost:7878', 'http://third.lan')).toBe(403);
  });

  it('knows a worker token by its prefix after "Bearer" only, in either header', async () => {
    expect(await onSocket('relay:1', 7878, { authorization: 'Bearer  omoi_wt_x' })).toBe(200);
    expect(await onSocket('relay:1', 7878, { authorization: 'Token Bearer omoi_wt_x' })).toBe(403);
    expect(
      await onSocket('relay:1', 7878, { authorization: 'Bearer omoi_k_x', 'x-api-key': 'omoi_wt_y' }),
    ).toBe(200);
    expect(await onSocket('relay:1', 7878, { 'x-api-key': 'x-omoi_wt_y' })).toBe(403);
  });
});
