// The event log and its fan-out below the SSE route (src/core/events.ts), on a real database: what
// the hub hands its subscribers when another process appends a large batch, when a subscriber
// throws, when it unsubscribes and when it subscribes after a quiet spell; and the two queries the
// SSE route replays from.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/db.js';
import { eventually } from '../../test/support/wait.js';
import type { AppendEvent } from '../contracts/events.js';
import { createEventsService, type Delivery, EventHub, matches, type OmoiEvent, sseFrame } from './events.js';

describeEachDatabase('event hub', (getDb, kind) => {
  // Two hubs on one database stand for two server processes: `ours` subscribes, `theirs` appends.
  let ours: EventHub;
  let theirs: EventHub;

  beforeAll(async () => {
    ours = new EventHub(getDb(), 60_000);
    theirs = new EventHub(getDb(), 60_000);
    await ours.start();
    await theirs.start();
  });
  afterAll(async () => {
    await ours?.stop();
    await theirs?.stop();
  });

  const said = (taskId: string, n: number): AppendEvent => ({
    type: 'agent.message',
    projectId: randomUUID(),
    taskId,
    data: { text: `message ${n}` },
  });

  /** Collects every event of `taskId` a subscriber of `ours` receives. */
  async function collect(taskId: string, handle?: (batch: readonly Delivery[]) => void) {
    const seen: OmoiEvent[] = [];
    const off = await ours.subscribe((batch) => {
      for (const d of batch) if (d.event.task_id === taskId) seen.push(d.event);
      handle?.(batch);
    });
    return { seen, off };
  }

  it('reads up everything its poll finds when notifications were lost, 1,200 events in id order', async () => {
    // What the poll is for: a PostgreSQL LISTEN connection was down while another process appended,
    // so no notification came; more events piled up than one read of the table returns.
    const task = randomUUID();
    const { seen, off } = await collect(task);
    try {
      const rows = await getDb().query<{ id: string }>(
        `INSERT INTO events (type, task_id, data)
         SELECT 'agent.message', $1, jsonb_build_object('text', 'message ' || n)
         FROM generate_series(0, 1199) AS n ORDER BY n RETURNING id`,
        [task],
      );
      ours.read();
      await eventually(() => seen.length >= 1_200, 'the whole backlog');
      expect(seen.map((e) => e.id)).toEqual(rows.map((r) => Number(r.id)));
      expect(seen[1_199]!.data).toEqual({ text: 'message 1199' });
    } finally {
      off();
    }
  });

  it('keeps delivering to every subscriber when one of them throws, and stops at unsubscribe', async () => {
    const task = randomUUID();
    const events = createEventsService(getDb(), theirs);
    const broken = await collect(task, () => {
      throw new Error('a broken subscriber');
    });
    const healthy = await collect(task);
    try {
      await events.append(said(task, 1));
      await events.append(said(task, 2));
      await eventually(() => healthy.seen.length >= 2 && broken.seen.length >= 2, 'both events, twice');
      expect(healthy.seen.map((e) => e.data)).toEqual([{ text: 'message 1' }, { text: 'message 2' }]);

      healthy.off();
      await events.append(said(task, 3));
      await eventually(() => broken.seen.length >= 3, 'the third event');
      expect(healthy.seen).toHaveLength(2);
    } finally {
      broken.off();
      healthy.off();
    }
  });

  it('starts a subscriber after a quiet spell at the newest event, not at the backlog', async () => {
    const task = randomUUID();
    const events = createEventsService(getDb(), theirs);
    // Nobody subscribed to `ours` while these were committed, and its poll came by meanwhile.
    expect(ours.size).toBe(0);
    await events.append(said(task, 1));
    await events.append(said(task, 2));
    ours.read();
    const { seen, off } = await collect(task);
    try {
      await events.append(said(task, 3));
      // A replayed backlog would come in the same read as the live event, before it.
      await eventually(() => seen.length >= 1, 'the live event');
      expect(seen.map((e) => e.data)).toEqual([{ text: 'message 3' }]);
    } finally {
      off();
    }
  });

  /** Events of `taskId` inserted by plain INSERT, which sends no NOTIFY; their ids. */
  async function insertUnnotified(taskId: string, count: number): Promise<number[]> {
    const rows = await getDb().query<{ id: string }>(
      `INSERT INTO events (type, task_id, data)
       SELECT 'agent.message', $1, '{}' FROM generate_series(1, $2) RETURNING id`,
      [taskId, count],
    );
    return rows.map((r) => Number(r.id));
  }

  it('finds by its poll an event that came with no notification, and stops polling and listening at stop()', async () => {
    const hub = new EventHub(getDb(), 25);
    await hub.start();
    const task = randomUUID();
    const seen: number[] = [];
    const off = await hub.subscribe((batch) => {
      for (const d of batch) if (d.event.task_id === task) seen.push(d.event.id);
    });
    // A plain INSERT sends no NOTIFY: only the poll can find it.
    const [first] = await insertUnnotified(task, 1);
    await eventually(() => seen.includes(first!), 'the poll to find the event');
    await hub.stop();
    // Nor does a notification reach a stopped hub.
    await createEventsService(getDb(), theirs).append(said(task, 1));
    await insertUnnotified(task, 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen).toEqual([first]);
    off();
  });

  it('hands events appended in this process to its subscribers without reading them back', async () => {
    // The table is read only for what this process did not publish: count those reads.
    let reads = 0;
    const db = getDb();
    const counted = new Proxy(db, {
      get(target, property) {
        if (property === 'query')
          return (sql: string, params?: unknown[]) => {
            if (/FROM events WHERE id > \$1 ORDER BY id/.test(sql)) reads += 1;
            return target.query(sql, params);
          };
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const hub = new EventHub(counted, 60_000);
    await hub.start();
    const events = createEventsService(counted, hub);
    const task = randomUUID();
    const seen: number[] = [];
    const off = await hub.subscribe((batch) => {
      for (const d of batch) if (d.event.task_id === task) seen.push(d.event.id);
    });
    try {
      const alone = await events.append(said(task, 1));
      const inTx = await db.transaction((tx) => events.appendMany([said(task, 2), said(task, 3)], tx));
      const many = await events.appendMany([said(task, 4), said(task, 5)]);
      const ids = [alone, ...inTx, ...many].map((e) => e.id);
      await eventually(() => seen.length >= ids.length, 'every event');
      expect(seen).toEqual(ids);
      await new Promise((resolve) => setTimeout(resolve, 100));
      // In one process, PGlite's order is fixed: the notification, then the append returns and
      // publishes. On PostgreSQL the notification comes on its own connection and may overtake the
      // append's answer: then the hub reads (delivering each event once all the same).
      if (kind === 'pglite') expect(reads).toBe(0);
    } finally {
      off();
      await hub.stop();
    }
  });

  it('does not skip what its subscribers are owed when another subscribes meanwhile', async () => {
    const hub = new EventHub(getDb(), 60_000);
    await hub.start();
    const task = randomUUID();
    const seen: number[] = [];
    const first = await hub.subscribe((batch) => {
      for (const d of batch) if (d.event.task_id === task) seen.push(d.event.id);
    });
    try {
      // Committed with no notification and not delivered yet when the second subscriber comes.
      const ids = await insertUnnotified(task, 2);
      const second = await hub.subscribe(() => {});
      hub.read();
      await eventually(() => seen.length >= 2, 'the two events');
      expect(seen).toEqual(ids);
      second();
    } finally {
      first();
      await hub.stop();
    }
  });

  it('stores no secret: a token in an event is redacted before it is written', async () => {
    const events = createEventsService(getDb(), theirs);
    const task = randomUUID();
    const token = 'omoi_wt_abcdefgh12345678';
    const stored = await events.append({
      type: 'agent.message',
      taskId: task,
      data: { text: `the worker printed ${token}` },
    });
    expect(JSON.stringify(stored.data)).not.toContain(token);
    const [read] = await events.list({ task_id: task }, 0, 10);
    expect(read!.data).toEqual({ text: 'the worker printed [REDACTED]' });
  });

  it('appends several events in one transaction: in order, and none when one of them fails', async () => {
    const events = createEventsService(getDb(), theirs);
    const task = randomUUID();
    const stored = await events.appendMany([said(task, 1), said(task, 2), said(task, 3)]);
    expect(stored.map((e) => e.data)).toEqual([
      { text: 'message 1' },
      { text: 'message 2' },
      { text: 'message 3' },
    ]);
    expect(stored.map((e) => e.id)).toEqual([...stored.map((e) => e.id)].sort((a, b) => a - b));
    const other = randomUUID();
    await expect(
      events.appendMany([said(other, 1), { ...said(other, 2), projectId: 'not-a-uuid' }]),
    ).rejects.toThrow();
    expect(await events.list({ task_id: other }, 0, 10)).toEqual([]);
    expect(await events.appendMany([])).toEqual([]);
  });

  it('lists after an id and the latest N, oldest first, by project, ticket or task', async () => {
    const events = createEventsService(getDb(), theirs);
    const project = randomUUID();
    const ticket = randomUUID();
    const task = randomUUID();
    const message = (
      text: string,
      ids: { projectId: string; ticketId?: string; taskId?: string },
    ): AppendEvent => ({ type: 'agent.message', ...ids, data: { text } });
    const stored = await events.appendMany([
      message('ticket', { projectId: project, ticketId: ticket }),
      message('task', { projectId: project, ticketId: ticket, taskId: task }),
      message('a', { projectId: project, ticketId: ticket, taskId: task }),
      message('elsewhere', { projectId: randomUUID() }),
      message('b', { projectId: project, ticketId: ticket, taskId: task }),
    ]);
    const ids = (list: OmoiEvent[]) => list.map((e) => e.id);
    const [t1, t2, m1, , m2] = stored.map((e) => e.id);

    expect(ids(await events.list({ project_id: project }, 0, 100))).toEqual([t1, t2, m1, m2]);
    expect(ids(await events.list({ project_id: project }, t2!, 100))).toEqual([m1, m2]);
    expect(ids(await events.list({ project_id: project }, 0, 2))).toEqual([t1, t2]);
    expect(ids(await events.list({ ticket_id: ticket, task_id: task }, 0, 100))).toEqual([t2, m1, m2]);
    expect(ids(await events.list({ project_id: project, task_id: randomUUID() }, 0, 100))).toEqual([]);

    expect(ids(await events.latest({ project_id: project }, 2))).toEqual([m1, m2]);
    expect(ids(await events.latest({ task_id: task }, 10))).toEqual([t2, m1, m2]);
    expect(ids(await events.latest({ ticket_id: ticket }, 1))).toEqual([m2]);
  });
});

describe('matches and sseFrame', () => {
  const event = {
    id: 42,
    type: 'task.updated',
    ts: '2026-12-03T09:00:00.000Z',
    project_id: 'p1',
    ticket_id: 't1',
    task_id: 'k1',
    data: { status: 'running', note: 'line one\nline two' },
  } as unknown as OmoiEvent;

  it('lets an event through when every key the filter names matches, and only then', () => {
    expect(matches(event, {})).toBe(true);
    expect(matches(event, { project_id: 'p1', ticket_id: 't1', task_id: 'k1' })).toBe(true);
    expect(matches(event, { project_id: 'p2' })).toBe(false);
    expect(matches(event, { ticket_id: 't2' })).toBe(false);
    expect(matches(event, { task_id: 'k2' })).toBe(false);
    expect(matches(event, { project_id: 'p1', task_id: 'k2' })).toBe(false);
    expect(matches(event, { project_id: '', ticket_id: '', task_id: '' })).toBe(true);
  });

  it('frames an event as its id and its JSON on one data line, newlines in the data escaped', () => {
    const frame = new TextDecoder().decode(sseFrame(event));
    expect(frame).toBe(`id: 42\ndata: ${JSON.stringify(event)}\n\n`);
    expect(frame.split('\n')).toHaveLength(4);
  });
});
