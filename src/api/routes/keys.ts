// API keys (admin only) and the web UI's session: a key pasted into the login form becomes an
// HttpOnly, SameSite=Strict cookie, so the browser never keeps the key itself.
import { createRoute, z } from '@hono/zod-openapi';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { AppError } from '../../base/errors.js';
import { ApiKey, CreateKey, IdParam, Login, Session } from '../../contracts/api.js';
import { type Principal, parseDuration, SESSION_TTL_MS } from '../../core/keys.js';
import { SESSION_COOKIE } from '../auth.js';
import type { App, AppDeps } from '../context.js';
import { errors, jsonBody, jsonResponse } from './common.js';

export function registerKeys(app: App, { services, config }: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/keys',
      tags: ['keys'],
      summary: 'Create an API key (admin; the key is in this response only)',
      request: { body: jsonBody(CreateKey) },
      responses: {
        201: jsonResponse(ApiKey.extend({ key: z.string() }), 'The key, shown once'),
        400: errors[400],
        403: errors[403],
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const expiresInMs = body.expires_in === undefined ? null : parseDuration(body.expires_in);
      const created = await services.keys.create(body.name, { role: body.role ?? 'admin', expiresInMs });
      return c.json(created, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/keys',
      tags: ['keys'],
      summary: 'List API keys with role, expiry and last use (admin; never the keys themselves)',
      responses: { 200: jsonResponse(z.object({ keys: z.array(ApiKey) }), 'Keys'), 403: errors[403] },
    }),
    async (c) => c.json({ keys: await services.keys.list() }, 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/keys/{id}',
      tags: ['keys'],
      summary: 'Revoke an API key by id or prefix (admin); its web sessions end too',
      request: { params: IdParam },
      responses: {
        200: jsonResponse(ApiKey, 'The revoked key'),
        403: errors[403],
        404: errors[404],
        409: errors[409],
      },
    }),
    async (c) => c.json(await services.keys.revoke(c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/session',
      tags: ['keys'],
      summary: 'Log the web UI in with a key: sets an HttpOnly SameSite=Strict session cookie',
      request: { body: jsonBody(Login) },
      responses: { 200: jsonResponse(Session, 'Logged in'), 400: errors[400], 401: errors[401] },
    }),
    async (c) => {
      const made = await services.keys.createSession(c.req.valid('json').key.trim());
      if (!made) throw new AppError('UNAUTHORIZED', 'the API key is unknown, revoked or expired');
      const secure =
        new URL(c.req.url).protocol === 'https:' || (config.publicUrl?.startsWith('https:') ?? false);
      setCookie(c, SESSION_COOKIE, made.session, {
        httpOnly: true,
        sameSite: 'Strict',
        path: '/',
        secure,
        maxAge: Math.floor(SESSION_TTL_MS / 1000),
      });
      const p = made.principal;
      return c.json(sessionOf(p, made.expiresAt, 'api_key'), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/session',
      tags: ['keys'],
      summary: 'Who this request acts as (the web UI asks before showing its login)',
      responses: { 200: jsonResponse(Session, 'The caller'), 401: errors[401] },
    }),
    async (c) => {
      return c.json(sessionOf(c.get('principal'), null), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/session',
      tags: ['keys'],
      summary: 'Log out: ends the session and clears its cookie',
      responses: { 200: jsonResponse(z.object({ ok: z.literal(true) }), 'Logged out') },
    }),
    async (c) => {
      const session = getCookie(c, SESSION_COOKIE);
      if (session) await services.keys.endSession(session);
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.json({ ok: true as const }, 200);
    },
  );
}

/** The Session body of a caller (a worker token has none: it acts for its task only). */
function sessionOf(
  p: Principal,
  expiresAt: Date | null,
  kind?: z.infer<typeof Session>['kind'],
): z.infer<typeof Session> {
  if (p.kind === 'worker') throw new AppError('FORBIDDEN', 'a worker token has no session');
  return {
    kind: kind ?? p.kind,
    role: p.kind === 'local' ? 'admin' : p.role,
    name: p.kind === 'api_key' ? p.name : null,
    expires_at: expiresAt?.toISOString() ?? null,
  };
}
