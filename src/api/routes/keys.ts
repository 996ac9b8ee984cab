import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../base/errors.js';
import { CreateKey } from '../../contracts/api.js';
import type { App, AppDeps } from '../context.js';
import { send } from '../context.js';
import { errors, jsonBody, jsonResponse } from './common.js';

const ApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey');

/** Keys are made by `omoi key create`; over HTTP only when the server holds the embedded database. */
export function registerKeys(app: App, { services }: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/keys',
      tags: ['keys'],
      summary: 'Create an API key (the key is in this response only)',
      request: { body: jsonBody(CreateKey) },
      responses: {
        201: jsonResponse(ApiKey.extend({ key: z.string() }), 'The key, shown once'),
        400: errors[400],
        403: errors[403],
      },
    }),
    async (c) => {
      if (c.get('principal').kind === 'worker')
        throw new AppError('FORBIDDEN', 'a worker token may not create keys');
      return send(c, await services.keys.create(c.req.valid('json').name), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/keys',
      tags: ['keys'],
      summary: 'List API keys (never the keys themselves)',
      responses: { 200: jsonResponse(z.object({ keys: z.array(ApiKey) }), 'Keys') },
    }),
    async (c) => send(c, { keys: await services.keys.list() }),
  );
}
