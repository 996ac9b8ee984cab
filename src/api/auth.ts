// Who may call what. On a loopback server a request without a key is the local user; on any other
// address every API request needs a key. A worker token is always held to its own task, ticket and
// project, on the few routes a worker needs; everything else is refused with 403.
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../base/errors.js';
import type { ServerConfig } from '../core/config.js';
import type { KeysService, Principal } from '../core/keys.js';
import type { AppEnv } from './context.js';

/** The only routes a worker token may use, and which of its ids the path must name. */
const WORKER_ROUTES: { method: string; pattern: RegExp; scope: 'taskId' | 'ticketId' | 'projectId' }[] = [
  { method: 'GET', pattern: /^\/api\/v1\/tasks\/([^/]+)$/, scope: 'taskId' },
  { method: 'POST', pattern: /^\/api\/v1\/tasks\/([^/]+)\/events$/, scope: 'taskId' },
  { method: 'GET', pattern: /^\/api\/v1\/tickets\/([^/]+)$/, scope: 'ticketId' },
  { method: 'POST', pattern: /^\/api\/v1\/projects\/([^/]+)\/specs\/sync$/, scope: 'projectId' },
];

/** Paths anyone may read: liveness and the API description. */
const OPEN_PATHS = new Set(['/health', '/api/v1/health', '/api/v1/openapi.json']);

/** The key a request presents: `X-API-Key`, `Authorization: Bearer`, or (SSE only) `?access_token=`. */
export function presentedKey(headers: Headers, url: URL): string | null {
  const header = headers.get('x-api-key');
  if (header) return header.trim();
  const auth = headers.get('authorization');
  if (auth) {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (!match) throw new AppError('UNAUTHORIZED', 'the Authorization header must be "Bearer <key>"');
    return match[1]!.trim();
  }
  if (url.pathname === '/api/v1/events') return url.searchParams.get('access_token');
  return null;
}

/** Throws FORBIDDEN unless a worker principal may make this request. */
export function checkWorkerScope(principal: Principal, method: string, path: string): void {
  if (principal.kind !== 'worker') return;
  for (const route of WORKER_ROUTES) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (!match) continue;
    let named: string;
    try {
      named = decodeURIComponent(match[1]!);
    } catch {
      break;
    }
    if (named === principal[route.scope]) return;
    throw new AppError('FORBIDDEN', `this worker token may only reach its own ${route.scope.slice(0, -2)}`);
  }
  throw new AppError('FORBIDDEN', `a worker token may not ${method} ${path}`);
}

export function authMiddleware(keys: KeysService, config: ServerConfig): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    const path = url.pathname;
    if (OPEN_PATHS.has(path)) {
      c.set('principal', { kind: 'local' });
      return next();
    }
    const key = presentedKey(c.req.raw.headers, url);
    let principal: Principal;
    if (key) {
      const found = await keys.verify(key);
      if (!found) throw new AppError('UNAUTHORIZED', 'the API key or token is unknown, revoked or expired');
      principal = found;
    } else if (config.requireAuth) {
      throw new AppError(
        'UNAUTHORIZED',
        'this server is reachable from other machines: send an API key (X-API-Key or Authorization: Bearer)',
      );
    } else {
      principal = { kind: 'local' };
    }
    checkWorkerScope(principal, c.req.method, path);
    c.set('principal', principal);
    return next();
  };
}
