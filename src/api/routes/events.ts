// GET /api/v1/events: the event log as Server-Sent Events. Stored events after Last-Event-ID are
// replayed first (0 = from the start; no header = the latest 500), then live ones follow. The live
// subscription starts before the replay, and every frame is sent only if its id is above the last
// one sent, so nothing is lost or repeated at the seam. A comment line every heartbeat keeps
// proxies from closing an idle stream.
import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { AppError } from '../../core/errors.js';
import { type EventFilter, matches, type OmoiEvent } from '../../core/events.js';
import type { App, AppDeps } from '../context.js';
import { EventQuery } from '../schemas.js';
import { errors } from './common.js';

const REPLAY_LATEST = 500;
const PAGE = 1000;

export function registerEvents(app: App, { services, config }: AppDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/events',
      tags: ['events'],
      summary: 'Stream events (SSE), filtered by project, ticket or task',
      description:
        'Each frame: `id: <event id>` and `data: <event JSON>`. Send Last-Event-ID (or ?last_event_id=) to ' +
        'resume; 0 replays from the start, none replays the latest 500.',
      request: { query: EventQuery },
      responses: {
        200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } },
        400: errors[400],
      },
    }),
    (async (c: Parameters<Parameters<App['openapi']>[1]>[0]) => {
      const query = c.req.valid('query' as never) as z.infer<typeof EventQuery>;
      const filter: EventFilter = {};
      if (query.project_id) filter.project_id = query.project_id;
      if (query.ticket_id) filter.ticket_id = query.ticket_id;
      if (query.task_id) filter.task_id = query.task_id;
      const raw = c.req.header('last-event-id') ?? query.last_event_id;
      if (raw !== undefined && !/^\d{1,15}$/.test(raw.trim()))
        throw new AppError('VALIDATION_FAILED', 'Last-Event-ID must be a non-negative integer event id');
      const after = raw === undefined ? null : Number(raw.trim());
      const hub = services.events.hub;

      return streamSSE(c, async (stream) => {
        const pending: OmoiEvent[] = [];
        let wake: (() => void) | null = null;
        let closed = false;
        const signal = () => {
          const w = wake;
          wake = null;
          w?.();
        };
        stream.onAbort(() => {
          closed = true;
          signal();
        });
        const unsubscribe = await hub.subscribe((event) => {
          if (!matches(event, filter)) return;
          pending.push(event);
          signal();
        });
        const heartbeat = setInterval(() => {
          void stream.write(': heartbeat\n\n').catch(() => {});
        }, config.heartbeatMs);
        let lastSent = after ?? 0;
        const sendEvent = async (event: OmoiEvent) => {
          if (event.id <= lastSent) return;
          await stream.writeSSE({ id: String(event.id), data: JSON.stringify(event) });
          lastSent = event.id;
        };
        try {
          await stream.write(`retry: 2000\n: connected\n\n`);
          if (after === null) {
            for (const event of await services.events.latest(filter, REPLAY_LATEST)) await sendEvent(event);
          } else {
            for (;;) {
              const page = await services.events.list(filter, lastSent, PAGE);
              for (const event of page) await sendEvent(event);
              if (page.length < PAGE || closed) break;
            }
          }
          while (!closed) {
            if (pending.length === 0) await new Promise<void>((resolve) => (wake = resolve));
            for (const event of pending.splice(0)) {
              if (closed) break;
              await sendEvent(event);
            }
          }
        } finally {
          clearInterval(heartbeat);
          unsubscribe();
        }
      });
    }) as never,
  );
}
