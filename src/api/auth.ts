// Who may call what, and from where.
//
// 1. The Host header must name this server (its bind address, the loopback names with its port,
//    OMOI_PUBLIC_URL's host, OMOI_ALLOWED_HOSTS): a DNS-rebinding page cannot talk to it.
// 2. A state-changing request (POST, PUT, PATCH, DELETE) must say it sends JSON (a browser cannot
//    send that cross-origin without a preflight the server never answers) and, when it carries an
//    Origin or Sec-Fetch-Site, must come from this server's own origin (CSRF).
// 3. On a loopback server a request without a key is the local user (admin-equivalent), unless it
//    came through a proxy (X-Forwarded-For, Forwarded, X-Real-IP) or OMOI_REQUIRE_KEY=1 is set; on
//    any other address every API request needs a key.
// 4. A key acts with its role (admin, member, read: see `requiredRole`); a worker token is held to
//    its own task, ticket and project on the few routes a worker needs.
import { networkInterfaces } from 'node:os';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { AppError } from '../base/errors.js';
import type { ServerConfig } from '../core/config.js';
import { type KeysService, type Principal, type Role, roleOf } from '../core/keys.js';
import type { AppEnv } from './context.js';

/** The cookie the web UI's login sets (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'omoi_session';

/** The only routes a worker token may use, and which of its ids the path must name. */
const WORKER_ROUTES: { method: string; pattern: RegExp; scope: 'taskId' | 'ticketId' | 'projectId' }[] = [
  { method: 'GET', pattern: /^\/api\/v1\/tasks\/([^/]+)$/, scope: 'taskId' },
  { method: 'POST', pattern: /^\/api\/v1\/tasks\/([^/]+)\/events$/, scope: 'taskId' },
  { method: 'POST', pattern: /^\/api\/v1\/tasks\/([^/]+)\/question$/, scope: 'taskId' },
  { method: 'GET', pattern: /^\/api\/v1\/tickets\/([^/]+)$/, scope: 'ticketId' },
  { method: 'POST', pattern: /^\/api\/v1\/projects\/([^/]+)\/specs\/sync$/, scope: 'projectId' },
];

/** Paths anyone may read: liveness and the API description. */
const OPEN_PATHS = new Set(['/health', '/api/v1/health', '/api/v1/openapi.json']);

/** Login and logout need no key (login checks the one in its body; logout ends the cookie's session). */
const SESSION_PATH = '/api/v1/session';

/** Writes a `member` key may make; every other write needs `admin` (deny by default). */
const MEMBER_WRITES: { method: string; pattern: RegExp }[] = [
  { method: 'POST', pattern: /^\/api\/v1\/tickets$/ },
  { method: 'POST', pattern: /^\/api\/v1\/tasks$/ },
  { method: 'POST', pattern: /^\/api\/v1\/tasks\/[^/]+\/(cancel|retry|dependencies|events|answer)$/ },
  { method: 'POST', pattern: /^\/api\/v1\/projects\/[^/]+\/specs\/sync$/ },
];

/** Reads only an admin may make (the key list). */
const ADMIN_READS: RegExp[] = [/^\/api\/v1\/keys(\/|$)/];

const RANK: Record<Role, number> = { read: 0, member: 1, admin: 2 };

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;
const PROXY_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

/**
 * The least role a request needs: GETs need `read` (the key list `admin`), the writes of
 * MEMBER_WRITES `member`, every other write `admin` (keys, projects, settings, approving).
 *
 * @example
 * requiredRole('POST', '/api/v1/tickets/abc/approve'); // 'admin'
 */
export function requiredRole(method: string, path: string): Role {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS')
    return ADMIN_READS.some((p) => p.test(path)) ? 'admin' : 'read';
  return MEMBER_WRITES.some((r) => r.method === method && r.pattern.test(path)) ? 'member' : 'admin';
}

/** The key a request presents: `X-API-Key`, `Authorization: Bearer`, the session cookie, or (SSE only) `?access_token=`. */
export function presentedKey(c: Context, url: URL): string | null {
  const headers = c.req.raw.headers;
  const header = headers.get('x-api-key');
  if (header) return header.trim();
  const auth = headers.get('authorization');
  if (auth) {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (!match) throw new AppError('UNAUTHORIZED', 'the Authorization header must be "Bearer <key>"');
    return match[1]!.trim();
  }
  const cookie = getCookie(c, SESSION_COOKIE);
  if (cookie) return cookie;
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

/** Throws FORBIDDEN unless the principal's role covers the request. */
export function checkRole(principal: Principal, method: string, path: string): void {
  const role = roleOf(principal);
  if (role === 'worker') {
    checkWorkerScope(principal, method, path);
    return;
  }
  const needed = requiredRole(method, path);
  if (RANK[role] < RANK[needed])
    throw new AppError('FORBIDDEN', `a ${role} key may not ${method} ${path} (it needs the ${needed} role)`);
}

/** A Host header (or an allowed-hosts entry) split into a lower-case name and an optional port. */
export function splitHost(value: string): { name: string; port: number | null } | null {
  const text = value.trim().toLowerCase();
  // a name has no whitespace, colon or brackets; an IPv6 address comes in brackets
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/.exec(text);
  if (!match) return null;
  const name = match[1]!.replace(/\.$/, '');
  return { name, port: match[2] === undefined ? null : Number(match[2]) };
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** The host names this server answers to, each with the port it must come with (null: any port). */
export function allowedHosts(config: ServerConfig): { name: string; port: number | 'server' | null }[] {
  const out: { name: string; port: number | 'server' | null }[] = [];
  for (const name of LOOPBACK_NAMES) out.push({ name, port: 'server' });
  const bind = config.host.toLowerCase();
  if (WILDCARDS.has(bind)) {
    // Bound to every address: the machine's own addresses (a key is required there anyway).
    for (const list of Object.values(networkInterfaces()))
      for (const address of list ?? [])
        out.push({
          name: address.family === 'IPv6' ? `[${address.address}]` : address.address,
          port: 'server',
        });
  } else {
    out.push({ name: bind.includes(':') && !bind.startsWith('[') ? `[${bind}]` : bind, port: 'server' });
  }
  if (config.publicUrl) {
    const url = new URL(config.publicUrl);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    out.push({ name: url.hostname.toLowerCase(), port });
    if (!url.port) out.push({ name: url.hostname.toLowerCase(), port: null });
  }
  for (const entry of config.allowedHosts) {
    const host = splitHost(entry);
    if (host) out.push({ name: host.name, port: host.port });
  }
  return out;
}

/** The port the request's connection arrived on (null in-process, as with `app.request`). */
function localPort(c: Context): number | null {
  const env = c.env as { incoming?: { socket?: { localPort?: number } } } | undefined;
  return env?.incoming?.socket?.localPort ?? null;
}

/**
 * Refuses a request whose Host header names another server (DNS rebinding), a state-changing
 * request that is not JSON or comes from another origin (CSRF).
 */
export function originGuard(config: ServerConfig): MiddlewareHandler<AppEnv> {
  const allowed = allowedHosts(config);
  const hostOk = (value: string, serverPort: number | null): boolean => {
    const host = splitHost(value);
    if (!host) return false;
    return allowed.some((a) => {
      if (a.name !== host.name) return false;
      if (a.port === null) return true;
      if (a.port === 'server') {
        // In-process requests (no socket) have no port to compare.
        if (serverPort === null) return host.port === null || host.port === config.port;
        return host.port === serverPort || (host.port === null && serverPort === 80);
      }
      return host.port === a.port || (host.port === null && (a.port === 80 || a.port === 443));
    });
  };
  const publicOrigin = config.publicUrl ? new URL(config.publicUrl).origin : null;

  return async (c, next) => {
    const url = new URL(c.req.url);
    const hostHeader = c.req.header('host') ?? url.host;
    const serverPort = localPort(c);
    // A worker token is no ambient authority (no browser holds one; it reaches only its own task),
    // and workers come through the worker surface and its relays, under whatever Host they use.
    if (!hostOk(hostHeader, serverPort) && !presentsWorkerToken(c.req.raw.headers))
      throw new AppError(
        'FORBIDDEN',
        `this server does not answer to the host "${hostHeader.slice(0, 200)}" (add it to OMOI_ALLOWED_HOSTS)`,
      );
    if (STATE_CHANGING.has(c.req.method) && url.pathname.startsWith('/api/')) {
      const type = c.req.header('content-type');
      if (!type || !JSON_TYPE.test(type.split(';')[0]!.trim()))
        throw new AppError(
          'UNSUPPORTED_MEDIA_TYPE',
          `${c.req.method} requests must be sent as application/json (also without a body)`,
        );
      const origin = c.req.header('origin');
      const site = c.req.header('sec-fetch-site');
      if (origin !== undefined) {
        let ok = false;
        try {
          const parsed = new URL(origin);
          ok =
            (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
            ((parsed.host.toLowerCase() === hostHeader.toLowerCase() && hostOk(parsed.host, serverPort)) ||
              parsed.origin === publicOrigin ||
              config.allowedHosts.some((h) => splitHost(h)?.name === parsed.hostname.toLowerCase()));
        } catch {
          ok = false;
        }
        if (!ok)
          throw new AppError('FORBIDDEN', `requests from the origin "${origin.slice(0, 200)}" are refused`);
      } else if (site !== undefined && site !== 'same-origin' && site !== 'none') {
        throw new AppError('FORBIDDEN', `${site} requests are refused`);
      }
    }
    return next();
  };
}

/** True when the request carries a worker token in a header (never a cookie). */
function presentsWorkerToken(headers: Headers): boolean {
  const auth = headers.get('authorization') ?? '';
  const key = headers.get('x-api-key') ?? '';
  return /^Bearer\s+omoi_wt_/i.test(auth.trim()) || key.trim().startsWith('omoi_wt_');
}

/** True when the request came through a proxy (whoever sent it, it is not the local user). */
export function forwarded(headers: Headers): boolean {
  return PROXY_HEADERS.some((h) => headers.has(h));
}

export function authMiddleware(keys: KeysService, config: ServerConfig): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    const path = url.pathname;
    const method = c.req.method;
    if (OPEN_PATHS.has(path) || (path === SESSION_PATH && (method === 'POST' || method === 'DELETE'))) {
      c.set('principal', { kind: 'local' });
      return next();
    }
    const key = presentedKey(c, url);
    let principal: Principal;
    if (key) {
      const found = await keys.verify(key);
      if (!found) throw new AppError('UNAUTHORIZED', 'the API key or token is unknown, revoked or expired');
      principal = found;
    } else if (config.requireAuth || config.requireKey || forwarded(c.req.raw.headers)) {
      throw new AppError(
        'UNAUTHORIZED',
        config.requireAuth || config.requireKey
          ? 'this server needs an API key on every request (X-API-Key, Authorization: Bearer, or the web login)'
          : 'a request through a proxy needs an API key (X-API-Key or Authorization: Bearer)',
      );
    } else {
      principal = { kind: 'local' };
    }
    checkRole(principal, method, path);
    c.set('principal', principal);
    return next();
  };
}
