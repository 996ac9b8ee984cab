// The worker-only surface: a second listener of the server that serves only what a worker needs and
// accepts only worker task tokens: no loopback exemption, no API keys, no browser. It listens on a
// unix socket in the data folder (`<data>/run/worker.sock`, mode 0600; local sandboxes reach it
// through their relay, never directly) and, when OMOI_WORKER_PORT is set, on a TCP port for remote
// sandboxes (docker, daytona, e2b), which then get that address instead of the operator's API.
//
// Other parts of the server add their worker routes as mounts (the git broker under /api/v1/git,
// the model pass-through under /api/v1/model): each is a Hono app that runs after the gate, so
// `c.get('principal')` is always a verified worker token of a running task.
import { chmod, mkdir, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { AppError } from '../base/errors.js';
import type { KeysService, Principal } from '../core/keys.js';
import { checkWorkerScope } from './auth.js';
import { errorBody, errorResponse } from './errors.js';

type WorkerPrincipal = Extract<Principal, { kind: 'worker' }>;

export interface WorkerSurfaceEnv {
  Variables: { principal: WorkerPrincipal; token: string };
}

/** An app mounted on the surface at `path` (for example `/api/v1/git`). */
export interface WorkerSurfaceMount {
  path: string;
  app: Hono<WorkerSurfaceEnv>;
}

export interface WorkerSurfaceDeps {
  /** The full API; worker routes are answered by it once the gate has let them through. */
  api: { fetch(request: Request): Response | Promise<Response> };
  keys: Pick<KeysService, 'verify'>;
  /** Extra worker routes (git broker, model pass-through), mounted after the gate. */
  mounts?: WorkerSurfaceMount[];
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

/** The task token of a request: `Authorization: Bearer`, `X-API-Key`, or the password of Basic (git). */
export function workerTokenOf(headers: Headers): string | null {
  const key = headers.get('x-api-key');
  if (key) return key.trim();
  const auth = headers.get('authorization')?.trim();
  if (!auth) return null;
  const bearer = /^Bearer\s+(.+)$/i.exec(auth);
  if (bearer) return bearer[1]!.trim();
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(auth);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : decoded;
  }
  return null;
}

/**
 * Builds the surface app.
 *
 * @example
 * const surface = createWorkerSurface({ api: createApp(deps), keys: services.keys, mounts: [{ path: '/api/v1/git', app: gitApp }] });
 * const res = await surface.request('/api/v1/tasks/…', { headers: { authorization: `Bearer ${token}` } });
 */
export function createWorkerSurface(deps: WorkerSurfaceDeps): Hono<WorkerSurfaceEnv> {
  const app = new Hono<WorkerSurfaceEnv>();
  app.onError((error, c) => errorResponse(c, error, deps.log));
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));
  app.get('/health', (c) => c.json({ status: 'ok', surface: 'worker' }));

  app.use('*', async (c, next) => {
    const token = workerTokenOf(c.req.raw.headers);
    if (!token)
      throw new AppError('UNAUTHORIZED', 'the worker surface needs a task token (Authorization: Bearer)');
    const principal = await deps.keys.verify(token);
    if (!principal) throw new AppError('UNAUTHORIZED', 'the task token is unknown, revoked or expired');
    if (principal.kind !== 'worker')
      throw new AppError('FORBIDDEN', 'the worker surface accepts task tokens only, never API keys');
    c.set('principal', principal);
    c.set('token', token);
    return next();
  });

  for (const mount of deps.mounts ?? []) app.route(mount.path, mount.app);

  // Everything else: only the worker routes of the API, for this token's own task, ticket and project.
  app.all('*', async (c) => {
    const principal = c.get('principal');
    checkWorkerScope(principal, c.req.method, c.req.path);
    const headers = new Headers(c.req.raw.headers);
    headers.delete('x-api-key');
    headers.set('authorization', `Bearer ${c.get('token')}`);
    const method = c.req.method;
    const hasBody = method !== 'GET' && method !== 'HEAD';
    return deps.api.fetch(
      new Request(c.req.raw.url, {
        method,
        headers,
        ...(hasBody ? { body: c.req.raw.body, duplex: 'half' } : {}),
      } as RequestInit),
    );
  });
  return app;
}

export interface RunningWorkerSurface {
  /** The unix socket (local sandboxes' relays forward to it). */
  socketPath: string;
  /** http://host:port when OMOI_WORKER_PORT is set. */
  url: string | null;
  close(): Promise<void>;
}

/** Where the surface's socket lives in a data folder. */
export function workerSocketPath(dataDir: string): string {
  return join(resolve(dataDir), 'run', 'worker.sock');
}

/**
 * Serves the surface on `<data>/run/worker.sock` (mode 0600) and optionally on a TCP port.
 *
 * @example
 * const surface = await startWorkerSurface(app, { dataDir: '.omoi', port: 7879, host: '0.0.0.0' });
 */
export async function startWorkerSurface(
  app: Hono<WorkerSurfaceEnv>,
  options: { dataDir: string; port?: number | undefined; host?: string },
): Promise<RunningWorkerSurface> {
  const socketPath = workerSocketPath(options.dataDir);
  await mkdir(dirname(socketPath), { recursive: true, mode: 0o700 });
  await chmod(dirname(socketPath), 0o700);
  await rm(socketPath, { force: true }); // left by a process that was killed
  const servers: Server[] = [];
  const listen = (server: Server, ...args: unknown[]) =>
    new Promise<void>((done, reject) => {
      server.once('error', reject);
      (server.listen as (...a: unknown[]) => void)(...args, () => done());
    });
  const onSocket = createAdaptorServer({ fetch: app.fetch }) as Server;
  await listen(onSocket, socketPath);
  await chmod(socketPath, 0o600);
  servers.push(onSocket);
  let url: string | null = null;
  if (options.port !== undefined) {
    const onPort = createAdaptorServer({ fetch: app.fetch }) as Server;
    const host = options.host ?? '127.0.0.1';
    try {
      await listen(onPort, options.port, host);
    } catch (error) {
      onSocket.close();
      throw new AppError(
        'CONFIG_INVALID',
        `the worker port ${options.port} on ${host} is not free (OMOI_WORKER_PORT): ${String(error)}`,
      );
    }
    servers.push(onPort);
    const address = onPort.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
  return {
    socketPath,
    url,
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((done) => {
              server.close(() => done());
              server.closeAllConnections();
            }),
        ),
      );
      await rm(socketPath, { force: true });
    },
  };
}
