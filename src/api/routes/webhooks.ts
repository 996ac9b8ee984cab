// A project's outgoing webhooks and their delivery log (src/notify/). Secrets go in, never out.
import { createRoute } from '@hono/zod-openapi';
import {
  IdParam,
  PutWebhooks,
  WebhookDeliveryList,
  WebhookDeliveryQuery,
  WebhookList,
} from '../../contracts/api.js';
import { listDeliveries } from '../../notify/deliveries.js';
import { webhookConfigOf } from '../../notify/index.js';
import { replaceWebhooks, webhooksOf } from '../../notify/settings.js';
import type { App, AppDeps } from '../context.js';
import { errors, jsonBody, jsonResponse } from './common.js';

export function registerWebhooks(app: App, { services, config }: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/projects/{id}/webhooks',
      tags: ['webhooks'],
      summary: "The project's webhooks (secrets shown only as has_secret)",
      request: { params: IdParam },
      responses: { 200: jsonResponse(WebhookList, 'Webhooks'), 404: errors[404] },
    }),
    async (c) => {
      const project = await services.projects.get(c.req.valid('param').id);
      return c.json({ webhooks: webhooksOf(project.settings) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/projects/{id}/webhooks',
      tags: ['webhooks'],
      summary: "Replace the project's webhooks",
      description:
        'Each target is resolved and refused (400) when any address is loopback, private or link-local, unless ' +
        'the server runs with OMOI_WEBHOOK_ALLOW_PRIVATE=1. A new webhook needs a secret (16+ characters); one ' +
        'listed with its id and no secret keeps its secret. Events omitted: all.',
      request: { params: IdParam, body: jsonBody(PutWebhooks) },
      responses: {
        200: jsonResponse(WebhookList, 'The stored webhooks'),
        400: errors[400],
        403: errors[403],
        404: errors[404],
      },
    }),
    async (c) => {
      const project = await services.projects.get(c.req.valid('param').id);
      const webhooks = await replaceWebhooks(
        services.db,
        services.credentials,
        project.id,
        c.req.valid('json').webhooks,
        { allowPrivate: webhookConfigOf(config).allowPrivate },
      );
      return c.json({ webhooks }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/projects/{id}/webhook-deliveries',
      tags: ['webhooks'],
      summary: 'The delivery log, newest first: status, attempts, last response code and error',
      request: { params: IdParam, query: WebhookDeliveryQuery },
      responses: { 200: jsonResponse(WebhookDeliveryList, 'Deliveries'), 404: errors[404] },
    }),
    async (c) => {
      const project = await services.projects.get(c.req.valid('param').id);
      const { status, limit } = c.req.valid('query');
      return c.json({ deliveries: await listDeliveries(services.db, project.id, { status, limit }) }, 200);
    },
  );
}
