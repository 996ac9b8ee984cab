// The HTTP API as a Hono app (no server: `app.request()` in tests, `startServer` to listen).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../base/errors.js';
import { VERSION } from '../base/version.js';
import { gitBrokerRoutes } from '../broker/git-routes.js';
import { createMirrors, type Mirrors } from '../broker/mirrors.js';
import { modelBrokerRoutes } from '../broker/model.js';
import { serverBudgets } from '../core/budgets.js';
import { authMiddleware, originGuard } from './auth.js';
import type { AppDeps, AppEnv } from './context.js';
import { errorBody, errorResponse, validationError } from './errors.js';
import { inputGuard } from './input-guard.js';
import { registerBudgets } from './routes/budgets.js';
import { registerDelivery } from './routes/delivery.js';
import { registerEvents } from './routes/events.js';
import { registerForecast } from './routes/forecast.js';
import { registerKeys } from './routes/keys.js';
import { registerProjects } from './routes/projects.js';
import { registerQuestions } from './routes/questions.js';
import { registerTasks } from './routes/tasks.js';
import { registerTickets } from './routes/tickets.js';
import { registerWebhooks } from './routes/webhooks.js';
import { serveWeb } from './static.js';

export const API_VERSION = VERSION;

/**
 * Builds the app.
 *
 * @example
 * const app = createApp({ services, config });
 * const res = await app.request('/api/v1/projects', { method: 'POST', headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ name: 'demo', repo_url: '/srv/git/demo' }) });
 */
export function createApp(deps: AppDeps & { mirrors?: Mirrors }): OpenAPIHono<AppEnv> {
  const { services, config, log } = deps;
  // One mirror per project for the git broker and the diff and trace routes.
  const mirrors =
    deps.mirrors ??
    createMirrors({ dataDir: config.dataDir, credential: (id) => services.credentials.reveal(id) });
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target);
    },
  });

  app.onError((error, c) => errorResponse(c, error, log));
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));

  const health = (c: Context<AppEnv>) =>
    c.json({
      status: 'ok',
      version: API_VERSION,
      database: services.db.kind,
      runtime: config.runtime ?? null,
    });
  app.get('/health', health);
  app.get('/api/v1/health', health);

  // The git and model brokers take task tokens only and speak git's and the model APIs' own
  // formats, so they sit before the JSON and API-key middleware (src/broker/).
  app.route('/', brokerRoutes({ ...deps, mirrors }));

  // The order matters: who the request is for (Host) and from (Origin) first, then the body's
  // size, then its text (NUL, surrogates, nesting), then who sent it (keys and roles).
  app.use('*', originGuard(config));

  // Bounded bodies before any route reads one (spec sync and a question's conversation checkpoint
  // may send more); JSON only (originGuard).
  const tooLarge = (limit: number) => () => {
    throw new AppError('PAYLOAD_TOO_LARGE', `the body is larger than ${limit} bytes`);
  };
  const limitBody = bodyLimit({ maxSize: config.bodyLimit, onError: tooLarge(config.bodyLimit) });
  const limitSync = bodyLimit({ maxSize: config.syncBodyLimit, onError: tooLarge(config.syncBodyLimit) });
  app.use('/api/*', async (c, next) => {
    const method = c.req.method;
    if (method !== 'POST' && method !== 'PUT' && method !== 'PATCH' && method !== 'DELETE') return next();
    const large = c.req.path.endsWith('/specs/sync') || c.req.path.endsWith('/question');
    return (large ? limitSync : limitBody)(c, next);
  });
  app.use('/api/*', inputGuard());
  app.use('/api/*', authMiddleware(services.keys, config));

  registerProjects(app, deps);
  registerTickets(app, deps);
  registerTasks(app, deps);
  registerQuestions(app, deps);
  registerDelivery(app, deps, mirrors);
  registerEvents(app, deps);
  registerKeys(app, deps);
  registerWebhooks(app, deps);
  registerForecast(app, deps);
  registerBudgets(app, deps);

  app.doc31('/api/v1/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Omoi API',
      version: API_VERSION,
      description:
        'Projects, tickets, tasks, spec documents and events of Omoi. Errors are {error: {code, message, issues?}}. ' +
        'Send X-API-Key or Authorization: Bearer when the server is not on a loopback address; worker tokens reach ' +
        'only their own task.',
    },
    servers: [{ url: '/' }],
  });
  // Unknown API paths are a JSON 404, never the web UI.
  app.all('/api/*', (c) => c.json(errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));

  if (config.webDir && existsSync(join(config.webDir, 'index.html'))) app.use('*', serveWeb(config.webDir));
  return app;
}

/**
 * The git and model brokers as one app, for the API app and for the sandbox-only listener.
 *
 * @example
 * workerApp.route('/', brokerRoutes({ services, config }));
 */
export function brokerRoutes(deps: AppDeps & { mirrors?: Mirrors }): Hono {
  const { services, config, log } = deps;
  const mirrors =
    deps.mirrors ??
    createMirrors({ dataDir: config.dataDir, credential: (id) => services.credentials.reveal(id) });
  const app = new Hono();
  app.route(
    '/',
    gitBrokerRoutes({
      keys: services.keys,
      projects: services.projects,
      db: services.db,
      mirrors,
      ...(log ? { log } : {}),
    }),
  );
  app.route(
    '/',
    modelBrokerRoutes({
      keys: services.keys,
      db: services.db,
      upstreams: config.model ?? {},
      ...(log ? { log } : {}),
      budget: serverBudgets(services.db, config, services.events),
    }),
  );
  return app;
}
