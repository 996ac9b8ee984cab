// The SSE route's stream loop (streamEvents) and its socket writer (nodeSink), driven by a real
// event log and hub on PGlite. The sink is the one thing stood in for: it records each write as the
// client would receive it, and can hold a write open the way a slow client's full socket does, so
// the seam between replay and live events, the batching of frames queued behind a slow write, the
// drop of a subscriber that falls too far behind and the end of the stream are each made to happen
// deterministically. (test/api/sse.test.ts is the same route over a real HTTP server.)
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/support/db.js';
import { eventually as waitUntil } from '../../../test/support/wait.js';
import type { AppendEvent } from '../../contracts/events.js';
import { createEventsService, EventHub, type EventsService } from '../../core/events.js';
import { flushDelay, nodeSink, type SseSink, smoothedCost, streamEvents } from './events.js';

let database: TestDatabase;
let hub: EventHub;
let events: EventsService;
/** The newest id the hub has handed its subscribers (each batch goes to all of them at once). */
let deliveredUpTo = 0;

beforeAll(async () => {
  database = await openTestDatabase('pglite');
  hub = new EventHub(database.db, 60_000);
  await hub.start();
  events = createEventsService(database.db, hub);
  await hub.subscribe((batch) => {
    deliveredUpTo = Math.max(deliveredUpTo, batch.at(-1)?.event.id ?? 0);
  });
});
afterAll(async () => {
  await hub?.stop();
  await database?.cleanup();
});

/** A sink that records what a client would read, and can hold the next writes open. */
function recordingSink() {
  const writes: string[] = [];
  const closers: (() => void)[] = [];
  let held: { promise: Promise<void>; release: () => void; from: number } | null = null;
  let failWith: Error | null = null;
  const sink: SseSink = {
    async write(chunk) {
      if (failWith) throw failWith;
      const index = writes.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')) - 1;
      if (held && index >= held.from) await held.promise;
    },
    onClose(fn) {
      closers.push(fn);
    },
  };
  return {
    sink,
    writes,
    /**
     * Writes from now on (or from the write numbered `from`, counting from 0) wait until
     * `release()`, like a socket whose buffer is full.
     */
    hold(from = 0) {
      let release = () => {};
      const promise = new Promise<void>((resolve) => (release = resolve));
      held = { promise, release, from };
    },
    release() {
      const h = held;
      held = null;
      h?.release();
    },
    failNextWrites(error: Error) {
      failWith = error;
    },
    /** The client goes away. */
    close() {
      for (const fn of closers) fn();
    },
    /** The event ids of every frame written so far, in order. */
    ids(): number[] {
      return [...writes.join('').matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    },
    /** How many frames each write carried (0 for a comment-only write). */
    framesPerWrite(): number[] {
      return writes.map((w) => [...w.matchAll(/^id: /gm)].length);
    },
  };
}

const message = (projectId: string, n: number, size = 0): AppendEvent => ({
  type: 'agent.message',
  projectId,
  data: { text: `message ${n}${'x'.repeat(size)}` },
});

async function append(projectId: string, count: number, size = 0) {
  const out = await events.appendMany(Array.from({ length: count }, (_, n) => message(projectId, n, size)));
  return out.map((e) => e.id);
}

/** Polls every 5 ms: these waits are short, and there are many of them. */
const eventually = <T>(check: () => T | Promise<T>, what: string) => waitUntil(check, what, undefined, 5);

/** Resolves once the hub has handed every subscriber the event `id` (and so all before it). */
const delivered = (id: number) => eventually(() => deliveredUpTo >= id, `the hub to deliver event ${id}`);

/** The id of the newest event in the log: a stream "after" it receives only what comes next. */
async function newest(): Promise<number> {
  const rows = await database.db.query<{ max: number | null }>('SELECT max(id) AS max FROM events');
  return Number(rows[0]?.max ?? 0);
}

/** Starts a stream of one project's events; `done` settles when the loop returns or throws. */
function stream(projectId: string, after: number | null, heartbeatMs = 60_000) {
  const client = recordingSink();
  const subscribersBefore = hub.size;
  let settled: 'open' | 'ended' | Error = 'open';
  const done = streamEvents(client.sink, {
    filter: { project_id: projectId },
    after,
    heartbeatMs,
    events,
  }).then(
    () => {
      settled = 'ended';
    },
    (error: Error) => {
      settled = error;
    },
  );
  return {
    ...client,
    done,
    state: () => settled,
    /** Resolves once the stream's live subscription is in place. */
    subscribed: () => eventually(() => hub.size > subscribersBefore, 'the stream to subscribe'),
  };
}

describe('streamEvents', () => {
  it('starts with the retry hint, then replays the latest 500 of its filter in one write when no id is given', async () => {
    const project = randomUUID();
    const ids = await append(project, 503);
    await append(randomUUID(), 3); // another project's, newer: not in this stream
    const s = stream(project, null);
    await eventually(() => s.writes.length >= 2, 'the replay');
    expect(s.writes[0]).toBe('retry: 2000\n: connected\n\n');
    expect(s.ids()).toEqual(ids.slice(3));
    expect(s.framesPerWrite()).toEqual([0, 500]);
    s.close();
    await s.done;
    expect(s.state()).toBe('ended');
  });

  it('replays everything after Last-Event-ID in pages of 1000, in order, each page one write', async () => {
    const project = randomUUID();
    const ids = await append(project, 2101);
    const s = stream(project, ids[0]!);
    await eventually(() => s.ids().length >= 2100, 'the replay of 2100 events');
    expect(s.ids()).toEqual(ids.slice(1));
    expect(s.framesPerWrite()).toEqual([0, 1000, 1000, 100]);
    s.close();
    await s.done;
  });

  it('sends one frame alone (not wrapped in a batch) and a replay after the last id as nothing', async () => {
    const project = randomUUID();
    const [only] = await append(project, 1);
    const s = stream(project, 0);
    await eventually(() => s.ids().length === 1, 'the one stored event');
    expect(s.ids()).toEqual([only]);
    const quiet = stream(project, only!);
    await quiet.subscribed();
    await append(randomUUID(), 2); // not this project's
    const [next] = await append(project, 1);
    await eventually(() => quiet.ids().length === 1, 'the live event');
    expect(quiet.ids()).toEqual([next]);
    expect(quiet.framesPerWrite()).toEqual([0, 1]);
    s.close();
    quiet.close();
    await Promise.all([s.done, quiet.done]);
  });

  it('stops paging the replay once the client has gone', async () => {
    const project = randomUUID();
    const ids = await append(project, 2500);
    const s = stream(project, ids[0]! - 1);
    s.hold(1); // the first page's write waits (after the connect line)
    await eventually(() => s.ids().length === 1000, 'the first page to be written');
    s.close();
    s.release();
    await s.done;
    expect(s.state()).toBe('ended');
    expect(s.ids()).toEqual(ids.slice(0, 1000));
  });

  it('sends each event once where the replay meets the live stream', async () => {
    const project = randomUUID();
    const before = await append(project, 2);
    const s = stream(project, before[0]! - 1);
    s.hold(); // the connect line is written and held: the subscription is live, the replay not read yet
    await s.subscribed();
    // Appended now, these are both in the table the replay reads and in the live subscription.
    const during = await append(project, 3);
    await delivered(during.at(-1)!);
    s.release();
    const after = await append(project, 1);
    const all = [...before, ...during, ...after];
    await eventually(() => s.ids().length >= all.length, 'every event');
    expect(s.ids()).toEqual(all);
    s.close();
    await s.done;
  });

  it('sends the live events queued behind a slow write together, in one write', async () => {
    const project = randomUUID();
    const s = stream(project, await newest());
    await eventually(() => s.writes.length === 1, 'the connect line');
    const [first] = await append(project, 1);
    await eventually(() => s.ids().length === 1, 'the first live event');
    s.hold();
    const [second] = await append(project, 1);
    await eventually(() => s.ids().length === 2, 'the second, held');
    const queued = await append(project, 5);
    s.release();
    await eventually(() => s.ids().length === 7, 'the queued five');
    expect(s.ids()).toEqual([first, second, ...queued]);
    expect(s.framesPerWrite()).toEqual([0, 1, 1, 5]);
    s.close();
    await s.done;
  });

  it('keeps a subscriber that keeps up, however much passes through it', async () => {
    const project = randomUUID();
    const s = stream(project, await newest());
    await s.subscribed();
    // 12 MB in all, in bursts of 3 MB the client takes as they come: more than the backlog limit
    // in total, never that far behind at once.
    const ids: number[] = [];
    for (let burst = 0; burst < 4; burst++) {
      ids.push(...(await append(project, 48, 64 * 1024)));
      await eventually(() => s.ids().length === ids.length, 'the burst to be written');
    }
    expect(s.ids()).toEqual(ids);
    expect(s.state()).toBe('open');
    s.close();
    await s.done;
  });

  it('keeps a subscriber up to 8 MB behind and sends it all once its write returns', async () => {
    const project = randomUUID();
    const s = stream(project, await newest());
    await s.subscribed();
    s.hold();
    const [first] = await append(project, 1);
    await eventually(() => s.ids().length === 1, 'the held write');
    const behind = await append(project, 120, 64 * 1024); // ~7.7 MB queued
    await delivered(behind.at(-1)!);
    s.release();
    await eventually(() => s.ids().length === 121, 'the queued events');
    expect(s.ids()).toEqual([first, ...behind]);
    expect(s.state()).toBe('open');
    s.close();
    await s.done;
  });

  it('ends the stream of a subscriber more than 8 MB behind, unsubscribed, without sending what it missed', async () => {
    const project = randomUUID();
    const subscribers = hub.size;
    const s = stream(project, await newest());
    await s.subscribed();
    s.hold();
    const [first] = await append(project, 1);
    await eventually(() => s.ids().length === 1, 'the held write');
    const behind = await append(project, 140, 64 * 1024); // ~9 MB queued behind it
    await delivered(behind.at(-1)!);
    s.release();
    await s.done;
    expect(s.state()).toBe('ended');
    expect(s.ids()).toEqual([first]);
    expect(hub.size).toBe(subscribers);
  });

  it('writes heartbeat comments while idle, and none after the client has gone', async () => {
    const project = randomUUID();
    const s = stream(project, await newest(), 10);
    await eventually(() => s.writes.filter((w) => w === ': heartbeat\n\n').length >= 3, 'three heartbeats');
    s.close();
    await s.done;
    const count = s.writes.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(s.writes.length).toBe(count);
  });

  it('unsubscribes when the client goes, and when a write fails (the error reaches the route)', async () => {
    const subscribers = hub.size;
    const gone = stream(randomUUID(), await newest());
    await gone.subscribed();
    gone.close();
    await gone.done;
    expect(gone.state()).toBe('ended');
    expect(hub.size).toBe(subscribers);

    const project = randomUUID();
    const broken = stream(project, await newest());
    await broken.subscribed();
    broken.failNextWrites(new Error('socket reset'));
    await append(project, 1);
    await broken.done;
    expect(broken.state()).toMatchObject({ message: 'socket reset' });
    expect(hub.size).toBe(subscribers);
  });

  it('paces busy streams when many are open: writes about 20 ms apart, not as fast as the events come', async () => {
    const project = randomUUID();
    // 200 live streams in the process (199 of another project, which hear nothing).
    const quiet = Array.from({ length: 199 }, () => stream(randomUUID(), null));
    for (const q of quiet) await q.subscribed();
    const s = stream(project, await newest());
    await s.subscribed();
    const at: number[] = [];
    const write = s.sink.write.bind(s.sink);
    s.sink.write = async (chunk) => {
      at.push(performance.now());
      await write(chunk);
    };
    for (let n = 0; n < 4; n++) {
      await append(project, 1);
      await eventually(() => s.ids().length === n + 1, 'the event to be written');
    }
    // The flushes are 20 ms apart (a timer may fire a millisecond early); a write follows its flush
    // by a few microtasks, more on a loaded machine, so each gap has some slack and their sum less.
    for (let n = 1; n < at.length; n++) expect(at[n]! - at[n - 1]!).toBeGreaterThanOrEqual(12);
    expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(3 * 20 - 5);
    for (const q of [s, ...quiet]) q.close();
    await Promise.all([s, ...quiet].map((q) => q.done));
  });
});

describe('nodeSink', () => {
  /** The parts of a ServerResponse the sink uses: write's answer (false = buffer full) and events. */
  function response(accepts: boolean) {
    const res = new EventEmitter() as EventEmitter & { written: unknown[]; accepts: boolean };
    res.written = [];
    res.accepts = accepts;
    Object.assign(res, {
      write(chunk: unknown) {
        res.written.push(chunk);
        return res.accepts;
      },
    });
    return res;
  }

  it('returns at once while the socket takes the data, and waits for drain when it is full', async () => {
    const res = response(true);
    const sink = nodeSink(res as unknown as ServerResponse);
    await sink.write('a');
    res.accepts = false;
    let returned = false;
    const pending = sink.write('b').then(() => {
      returned = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(returned).toBe(false);
    res.emit('drain');
    await pending;
    expect(res.written).toEqual(['a', 'b']);
    expect(res.listenerCount('drain')).toBe(0);
  });

  it('lets a waiting write return when the client goes, writes nothing after, and reports the close', async () => {
    const res = response(false);
    const sink = nodeSink(res as unknown as ServerResponse);
    const early: string[] = [];
    sink.onClose(() => early.push('closed'));
    const pending = sink.write('a');
    res.emit('close');
    await pending;
    expect(early).toEqual(['closed']);
    expect(res.listenerCount('drain')).toBe(0);
    await sink.write('after');
    expect(res.written).toEqual(['a']);
    const late: string[] = [];
    sink.onClose(() => late.push('closed'));
    expect(late).toEqual(['closed']);
  });
});

describe('the pacing of live streams', () => {
  it('flushes on the next turn when the last flush is a window old, else at the end of the window', () => {
    expect(flushDelay(1_000, Number.NEGATIVE_INFINITY, 0, 200)).toBe(0);
    expect(flushDelay(1_000, 900, 0, 200)).toBe(0);
    expect(flushDelay(1_000, 980, 0, 200)).toBe(0);
    expect(flushDelay(1_000, 990, 0, 200)).toBe(10);
    expect(flushDelay(1_000, 1_000, 0, 200)).toBe(20);
  });

  it('keeps a window of 0.1 ms a live stream, up to 20 ms: one user waits for nothing', () => {
    expect(flushDelay(1_000, 1_000, 0, 1)).toBeCloseTo(0.1);
    expect(flushDelay(1_000, 999, 0, 1)).toBe(0);
    expect(flushDelay(1_000, 1_000, 0, 50)).toBeCloseTo(5);
    expect(flushDelay(1_000, 1_000, 0, 1_000)).toBe(20);
    expect(flushDelay(1_000, 1_000, 0, 0)).toBe(0);
  });

  it('widens the window to five times what the flushes cost, up to 40 ms', () => {
    expect(flushDelay(1_000, 1_000, 3, 200)).toBe(20);
    expect(flushDelay(1_000, 1_000, 6, 200)).toBe(30);
    expect(flushDelay(1_000, 990, 6, 200)).toBe(20);
    expect(flushDelay(1_000, 1_000, 8, 200)).toBe(40);
    expect(flushDelay(1_000, 1_000, 100, 200)).toBe(40);
    expect(flushDelay(1_000, 1_000, 3, 1)).toBe(15);
  });

  it('smooths the cost: each new measure weighs a fifth', () => {
    expect(smoothedCost(0, 10)).toBe(2);
    expect(smoothedCost(10, 10)).toBe(10);
    expect(smoothedCost(10, 0)).toBe(8);
  });
});
