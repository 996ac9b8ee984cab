// GET /api/v1/events: the event log as Server-Sent Events. Stored events after Last-Event-ID are
// replayed first (0 = from the start; no header = the latest 500), then live ones follow. The live
// subscription starts before the replay, and every frame is sent only if its id is above the last
// one sent, so nothing is lost or repeated at the seam. A comment line every heartbeat keeps
// proxies from closing an idle stream.
import { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { AppError } from '../../base/errors.js';
import { EventQuery } from '../../contracts/api.js';
import {
  type Delivery,
  type EventFilter,
  type EventsService,
  matches,
  type OmoiEvent,
  sseFrame,
} from '../../core/events.js';
import { isUuid } from '../../core/projects.js';
import type { App, AppDeps } from '../context.js';
import { errors } from './common.js';

const REPLAY_LATEST = 500;
const PAGE = 1000;
/**
 * A subscriber this far behind (bytes of frames it has not taken yet) is dropped: its stream ends
 * and the client resumes from Last-Event-ID out of the table, instead of the process holding an
 * ever longer backlog for a client that does not read.
 */
const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;
/**
 * The shortest time between two flushes of the live streams (see `flushTurn`): PER_STREAM_MS for
 * each stream open in the process, up to FLUSH_MS. One user's stream waits for nothing; two hundred
 * get one write each per 20 ms. (A flush's cost as measured here is only this process's side of
 * the writes: with 200 subscribers a 2–5 ms floor let the fan-out take the posts down to 0.71–0.75×,
 * 20 ms kept them at 0.86×; with one, the 20 ms floor added up to 20 ms to every event of a burst.)
 */
const FLUSH_MS = 20;
const PER_STREAM_MS = 0.1;
/** The flushes may take at most 1/FLUSH_SHARE of the event loop: the window grows with their cost. */
const FLUSH_SHARE = 5;
/** …up to this: the delay it adds stays bounded when the process is starved of CPU. */
const MAX_FLUSH_MS = 40;

/**
 * How long a stream with news waits for the next flush (0: the next turn of the event loop): the
 * rest of the window since the last flush, a window being PER_STREAM_MS for each of `streams` (up to
 * FLUSH_MS), or FLUSH_SHARE times what the flushes cost when that is more, never above MAX_FLUSH_MS.
 */
export function flushDelay(now: number, lastFlush: number, cost: number, streams: number): number {
  const floor = Math.min(FLUSH_MS, streams * PER_STREAM_MS);
  const window = Math.min(MAX_FLUSH_MS, Math.max(floor, cost * FLUSH_SHARE));
  return Math.max(0, lastFlush + window - now);
}

/** What the flushes cost, smoothed: each new measure weighs a fifth. */
export function smoothedCost(previous: number, measured: number): number {
  return 0.8 * previous + 0.2 * measured;
}

let lastFlush = Number.NEGATIVE_INFINITY;
/** How long the flushes keep the event loop (their writes to every subscriber's socket), smoothed. */
let flushCost = 0;
let nextFlush: Promise<void> | null = null;
/** Live streams open in this process (past their replay). */
let liveStreams = 0;

/**
 * Paces the writes of every live stream in the process. A stream with news waits for the next
 * flush: on the next turn of the event loop when the last one is at least a window old (so a quiet
 * stream adds no delay), else a window after the last one (0.1 ms a live stream, up to 20 ms).
 * Every waiting stream writes in that same turn, everything it has queued in one write; when those writes take long (hundreds of
 * subscribers on a busy machine), the window grows (up to MAX_FLUSH_MS) so that they keep at most
 * a fifth of the event loop from the requests that post events. Why: a socket write is a system call (on loopback
 * it also runs the receiver's side), and one per subscriber per event was most of the server's
 * time at 200 subscribers (writev 24% of the samples, the posts slowed to a third); under a burst
 * a subscriber now gets one write per window, however many events the window holds.
 */
function flushTurn(): Promise<void> {
  if (!nextFlush) {
    const wait = flushDelay(performance.now(), lastFlush, flushCost, liveStreams);
    nextFlush = new Promise<void>((resolve) => {
      const go = () => {
        const started = performance.now();
        lastFlush = started;
        nextFlush = null;
        resolve();
        // Each waiting stream writes in the microtask its await resumes in (queued by resolve,
        // before this one), and its socket sends the data in a tick queued then (the cork's): a
        // tick queued from here runs after all of them.
        queueMicrotask(() =>
          process.nextTick(() => {
            flushCost = smoothedCost(flushCost, performance.now() - started);
          }),
        );
      };
      if (wait > 0) setTimeout(go, wait);
      else setImmediate(go);
    });
  }
  return nextFlush;
}

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
      for (const key of ['project_id', 'ticket_id', 'task_id'] as const) {
        const value = query[key];
        if (value === undefined) continue;
        if (!isUuid(value))
          throw new AppError('VALIDATION_FAILED', `${key} must be a uuid (got ${JSON.stringify(value)})`);
        filter[key] = value;
      }
      const raw = c.req.header('last-event-id') ?? query.last_event_id;
      if (raw !== undefined && !/^\d{1,15}$/.test(raw.trim()))
        throw new AppError('VALIDATION_FAILED', 'Last-Event-ID must be a non-negative integer event id');
      const after = raw === undefined ? null : Number(raw.trim());

      const pump = (sink: SseSink) =>
        streamEvents(sink, { filter, after, heartbeatMs: config.heartbeatMs, events: services.events });
      // Under the Node server, write to the socket directly: web streams cost more than the
      // fan-out itself at hundreds of subscribers. Elsewhere (app.request in tests), Hono's SSE.
      const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
      if (outgoing instanceof ServerResponse) {
        outgoing.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        outgoing.flushHeaders();
        const sink = nodeSink(outgoing);
        void pump(sink)
          // The stream's one error frame (a database outage mid-stream); the client reconnects.
          .catch(() =>
            sink.write('event: error\ndata: {"code":"INTERNAL","message":"the event stream failed"}\n\n'),
          )
          .catch(() => {})
          .finally(() => outgoing.end());
        return RESPONSE_ALREADY_SENT;
      }
      return streamSSE(c, (stream) =>
        pump({
          write: async (chunk) => {
            await stream.write(chunk);
          },
          onClose: (fn) => stream.onAbort(fn),
        }),
      );
    }) as never,
  );
}

/** Where an event stream writes. */
export interface SseSink {
  write(chunk: Uint8Array | string): Promise<void>;
  onClose(fn: () => void): void;
}

export function nodeSink(res: ServerResponse): SseSink {
  let closed = false;
  const waiters = new Set<() => void>();
  res.on('close', () => {
    closed = true;
    for (const w of waiters) w();
  });
  return {
    async write(chunk) {
      if (closed || res.write(chunk)) return;
      // Back-pressure: a slow subscriber waits for its socket to drain (or to close).
      await new Promise<void>((resolve) => {
        const done = () => {
          waiters.delete(done);
          res.off('drain', done);
          resolve();
        };
        waiters.add(done);
        res.once('drain', done);
      });
    },
    onClose(fn) {
      if (closed) fn();
      else res.on('close', fn);
    },
  };
}

/**
 * Replays stored events after `after` (null: the latest 500), then streams live ones, until the
 * sink closes or the subscriber falls MAX_BACKLOG_BYTES behind.
 */
export async function streamEvents(
  sink: SseSink,
  opts: { filter: EventFilter; after: number | null; heartbeatMs: number; events: EventsService },
): Promise<void> {
  const { filter, after, events } = opts;
  const pending: Delivery[] = [];
  let wake: (() => void) | null = null;
  let closed = false;
  const signal = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  sink.onClose(() => {
    closed = true;
    signal();
  });
  let backlog = 0;
  const unsubscribe = await events.hub.subscribe((batch) => {
    const before = pending.length;
    for (const delivery of batch)
      if (matches(delivery.event, filter)) {
        pending.push(delivery);
        backlog += delivery.frame.byteLength;
      }
    if (backlog > MAX_BACKLOG_BYTES) {
      // It resumes from Last-Event-ID: what it missed is read back from the table then.
      closed = true;
      pending.length = 0;
      signal();
    } else if (pending.length > before) signal();
  });
  const heartbeat = setInterval(() => {
    void sink.write(': heartbeat\n\n').catch(() => {});
  }, opts.heartbeatMs);
  let lastSent = after ?? 0;
  let live = false;
  // Frames queued while a write was in flight go out together, in one write.
  const sendAll = async (batch: Delivery[]) => {
    const frames: Uint8Array[] = [];
    for (const { event, frame } of batch) {
      if (event.id <= lastSent) continue;
      frames.push(frame);
      lastSent = event.id;
    }
    if (frames.length === 1) await sink.write(frames[0]!);
    else if (frames.length > 1) await sink.write(Buffer.concat(frames));
  };
  const replay = (stored: OmoiEvent[]) => sendAll(stored.map((event) => ({ event, frame: sseFrame(event) })));
  try {
    await sink.write('retry: 2000\n: connected\n\n');
    if (after === null) {
      await replay(await events.latest(filter, REPLAY_LATEST));
    } else {
      for (;;) {
        const page = await events.list(filter, lastSent, PAGE);
        await replay(page);
        if (page.length < PAGE || closed) break;
      }
    }
    liveStreams += 1;
    live = true;
    while (!closed) {
      if (pending.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      if (closed) break;
      await flushTurn();
      backlog = 0;
      if (!closed) await sendAll(pending.splice(0));
    }
  } finally {
    if (live) liveStreams -= 1;
    clearInterval(heartbeat);
    unsubscribe();
  }
}
