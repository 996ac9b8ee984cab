// The event stream over a real HTTP server: replay, live delivery, resume after a dropped connection
// with events written in between (no gap, no duplicate), filters, heartbeats, and delivery of events
// written by another connection (NOTIFY).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { type RunningServer, startServer } from '../../src/api/main.js';
import { loadServerConfig } from '../../src/core/config.js';
import { createServices, type Services } from '../../src/core/services.js';
import { openDatabase } from '../../src/db/client.js';
import { describeEachDatabase, openTestDatabase } from '../support/db.js';
import { TEST_REPO, uniqueName, waitFor } from './support.js';

interface Frame {
  id: number;
  event: { id: number; type: string; project_id: string | null; data: Record<string, unknown> };
}

/** A minimal SSE reader over fetch: frames with ids, comments counted, abortable. */
function openStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const frames: Frame[] = [];
  const comments: string[] = [];
  let status = 0;
  const done = (async () => {
    const res = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: controller.signal,
    });
    status = res.status;
    if (!res.body) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let id: string | undefined;
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line.slice(1).trim());
          else if (line.startsWith('id:')) id = line.slice(3).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trim();
        }
        if (id !== undefined && data) frames.push({ id: Number(id), event: JSON.parse(data) });
        cut = buffer.indexOf('\n\n');
      }
    }
  })().catch(() => {
    // aborted by close(), or the server went away: the frames read so far are what the test checks
  });
  return {
    frames,
    comments,
    status: () => status,
    async close() {
      controller.abort();
      await done;
    },
  };
}

describeEachDatabase('SSE events', (getDb, kind, getTestDatabase) => {
  let services: Services;
  let server: RunningServer;
  let base: string;

  beforeAll(async () => {
    services = await createServices(getDb(), { eventPollMs: 1000 });
    server = await startServer(
      { ...loadServerConfig({ OMOI_PORT: '0' }, { webDir: null }), heartbeatMs: 150 },
      { services },
    );
    base = server.url;
  });
  afterAll(async () => {
    await server?.close();
    await services?.stop();
  });

  async function post(path: string, body: unknown) {
    const res = await fetch(`${base}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as { id: string; ticket: { id: string }; task: { id: string } };
  }

  async function setup() {
    const project = await post('/projects', { name: uniqueName('sse'), repo_url: TEST_REPO });
    const { ticket, task } = await post('/tickets', {
      project_id: project.id,
      description: 'Stream me',
      workflow_mode: 'quick',
    });
    return { project: project.id as string, ticket: ticket.id as string, task: task.id as string };
  }

  const say = (taskId: string, n: number) =>
    post(`/tasks/${taskId}/events`, { type: 'agent.message', data: { n } });

  it('replays from Last-Event-ID 0, streams live, and resumes after a drop with no gap and no duplicate', async () => {
    const ids = await setup();
    const noise = await setup();
    const first = openStream(`${base}/api/v1/events?project_id=${ids.project}`, { 'last-event-id': '0' });
    await waitFor(() => first.frames.length >= 3, 'the replay');
    expect(first.frames.map((f) => f.event.type)).toEqual([
      'project.created',
      'ticket.created',
      'task.created',
    ]);
    for (let n = 1; n <= 5; n += 1) await say(ids.task, n);
    await waitFor(() => first.frames.length >= 8, 'five live events');
    await first.close();

    // Written while nobody listens, with another project's events interleaved.
    for (let n = 6; n <= 12; n += 1) {
      await say(ids.task, n);
      await say(noise.task, n);
    }
    const lastSeen = first.frames.at(-1)!.id;
    const second = openStream(`${base}/api/v1/events?project_id=${ids.project}`, {
      'last-event-id': String(lastSeen),
    });
    await waitFor(() => second.frames.length >= 7, 'the events written in between');
    for (let n = 13; n <= 15; n += 1) await say(ids.task, n);
    await waitFor(() => second.frames.length >= 10, 'live events after the resume');
    await second.close();

    const received = [...first.frames, ...second.frames];
    const stored = await services.events.list({ project_id: ids.project }, 0, 1000);
    expect(received.map((f) => f.id)).toEqual(stored.map((e) => e.id));
    expect(received.filter((f) => f.event.type === 'agent.message').map((f) => f.event.data.n)).toEqual(
      Array.from({ length: 15 }, (_, i) => i + 1),
    );
    expect(received.every((f) => f.event.project_id === ids.project && f.id === f.event.id)).toBe(true);
  });

  it('sends each event once where the replay meets the live stream (an event both replayed and live)', async () => {
    const ids = await setup();
    const where = { projectId: ids.project, ticketId: ids.ticket, taskId: ids.task };
    // The stream subscribes, then reads its replay page. An event committed in between reaches it
    // twice: live from the hub, and in the page. Make that happen every time: commit one event
    // just before the replay's first read, and let the hub deliver it first.
    const list = services.events.list;
    let injected = false;
    services.events.list = async (...args) => {
      if (!injected) {
        injected = true;
        await services.events.append({ ...where, type: 'agent.message', data: { text: 'in between' } });
        await new Promise((r) => setTimeout(r, 300));
      }
      return list.apply(services.events, args);
    };
    try {
      const stream = openStream(`${base}/api/v1/events?project_id=${ids.project}`, { 'last-event-id': '0' });
      await waitFor(() => injected && stream.frames.length >= 4, 'the replay');
      await services.events.append({ ...where, type: 'agent.message', data: { text: 'after' } });
      const stored = await services.events.list({ project_id: ids.project }, 0, 1_000);
      await waitFor(() => stream.frames.length >= stored.length, 'every stored event');
      await new Promise((r) => setTimeout(r, 300)); // a duplicate would arrive now
      await stream.close();
      expect(stream.frames.map((f) => f.id)).toEqual(stored.map((e) => e.id));
    } finally {
      services.events.list = list;
    }
  });

  it('without Last-Event-ID replays the latest 500, then streams; filters by ticket and task', async () => {
    const ids = await setup();
    await services.events.appendMany(
      Array.from({ length: 520 }, (_, n) => ({
        type: 'agent.message' as const,
        projectId: ids.project,
        ticketId: ids.ticket,
        taskId: ids.task,
        data: { text: `message ${n}` },
      })),
    );
    const stored = await services.events.list({ ticket_id: ids.ticket }, 0, 1000);
    const stream = openStream(`${base}/api/v1/events?ticket_id=${ids.ticket}`);
    await waitFor(() => stream.frames.length >= 500, 'the latest 500');
    expect(stream.frames.map((f) => f.id)).toEqual(stored.slice(-500).map((e) => e.id));
    const byTask = openStream(`${base}/api/v1/events?task_id=${ids.task}&last_event_id=0`);
    await waitFor(() => byTask.frames.length >= 521, 'every event of the task');
    await say(ids.task, 999);
    await waitFor(() => stream.frames.length >= 501 && byTask.frames.length >= 522, 'the live event on both');
    expect(stream.frames.at(-1)!.event.data).toEqual({ n: 999 });
    await stream.close();
    await byTask.close();
  });

  it('refuses a filter that is not a uuid and a Last-Event-ID that is not an event id, naming which', async () => {
    const ids = await setup();
    const refused = async (query: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${base}/api/v1/events?${query}`, { headers });
      const body = (await res.json()) as { error: { code: string; message: string } };
      return { status: res.status, ...body.error };
    };
    for (const key of ['project_id', 'ticket_id', 'task_id'])
      expect(await refused(`${key}=not-a-uuid`)).toMatchObject({
        status: 400,
        code: 'VALIDATION_FAILED',
        message: `${key} must be a uuid (got "not-a-uuid")`,
      });
    for (const bad of ['abc', '-1', '1.5', '1234567890123456'])
      expect(await refused(`project_id=${ids.project}`, { 'last-event-id': bad })).toMatchObject({
        status: 400,
        code: 'VALIDATION_FAILED',
        message: 'Last-Event-ID must be a non-negative integer event id',
      });
    expect(await refused(`project_id=${ids.project}&last_event_id=x`)).toMatchObject({ status: 400 });
  });

  it('resumes after the Last-Event-ID header (spaces trimmed) in preference to ?last_event_id', async () => {
    const ids = await setup();
    await say(ids.task, 1);
    await say(ids.task, 2);
    const stored = await services.events.list({ task_id: ids.task }, 0, 100);
    const [created, one] = stored;
    const stream = openStream(`${base}/api/v1/events?task_id=${ids.task}&last_event_id=0`, {
      'last-event-id': ` ${one!.id} `,
    });
    await waitFor(() => stream.frames.length >= 1, 'the replay after the header id');
    await say(ids.task, 3);
    await waitFor(() => stream.frames.length >= 2, 'the live event');
    expect(stream.frames.map((f) => f.event.data)).toEqual([{ n: 2 }, { n: 3 }]);
    expect(stream.frames.map((f) => f.id)).not.toContain(created!.id);
    await stream.close();
  });

  it('answers with an event stream that proxies and caches must pass through as it comes', async () => {
    const ids = await setup();
    const controller = new AbortController();
    const res = await fetch(`${base}/api/v1/events?project_id=${ids.project}`, { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    controller.abort();
  });

  it('streams in-process too (app.request, without a Node server): the same loop behind a web stream', async () => {
    const ids = await setup();
    const app = createApp({ services, config: loadServerConfig({}, { webDir: null }) });
    const controller = new AbortController();
    const res = await app.request(`/api/v1/events?ticket_id=${ids.ticket}`, {
      headers: { 'last-event-id': '0' },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while ((text.match(/^data: /gm) ?? []).length < 2) text += (await reader.read()).value ?? '';
    await say(ids.task, 7);
    while ((text.match(/^data: /gm) ?? []).length < 3) text += (await reader.read()).value ?? '';
    controller.abort();
    await reader.cancel().catch(() => {});
    expect(text.startsWith('retry: 2000\n')).toBe(true);
    const types = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!).type);
    expect(types).toEqual(['ticket.created', 'task.created', 'agent.message']);
  });

  it('is described in the OpenAPI document: its filters, resuming, the stream and the 400', async () => {
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as {
      paths: Record<
        string,
        { get: Record<string, unknown> & { parameters: { name: string; in: string }[] } }
      >;
    };
    const route = doc.paths['/api/v1/events']!.get;
    expect(route.tags).toEqual(['events']);
    expect(route.summary).toMatch(/^Stream events \(SSE\)/);
    expect(route.description).toContain('Last-Event-ID');
    // access_token: an EventSource cannot send headers.
    expect(route.parameters.map((p) => `${p.in}:${p.name}`).sort()).toEqual([
      'query:access_token',
      'query:last_event_id',
      'query:project_id',
      'query:task_id',
      'query:ticket_id',
    ]);
    expect(Object.keys(route.responses as object)).toEqual(['200', '400']);
    expect(JSON.stringify(route.responses)).toContain('text/event-stream');
  });

  it('sends heartbeat comments on an idle stream', async () => {
    const ids = await setup();
    const stream = openStream(`${base}/api/v1/events?project_id=${ids.project}`);
    await waitFor(() => stream.comments.filter((c) => c === 'heartbeat').length >= 2, 'two heartbeats');
    expect(stream.status()).toBe(200);
    await stream.close();
  });

  it('streams in id order across an id skipped by a rollback and an event this process did not append', async () => {
    const ids = await setup();
    const stream = openStream(`${base}/api/v1/events?project_id=${ids.project}`, { 'last-event-id': '0' });
    await waitFor(() => stream.frames.length >= 2, 'the replay');
    // An append rolled back: its id is drawn and never committed.
    await getDb()
      .transaction(async (tx) => {
        await services.events.append(
          { type: 'agent.message', projectId: ids.project, data: { text: 'rolled back' } },
          tx,
        );
        throw new Error('roll back');
      })
      .catch(() => {});
    await say(ids.task, 1);
    // Written with plain SQL and no NOTIFY: only reading the table before the next append brings it.
    await getDb().query(`INSERT INTO events (type, project_id, data) VALUES ('external.note', $1, '{}')`, [
      ids.project,
    ]);
    await say(ids.task, 2);
    await waitFor(() => stream.frames.some((f) => f.event.data.n === 2), 'the second message');
    const live = stream.frames.filter(
      (f) => f.event.type === 'agent.message' || f.event.type === 'external.note',
    );
    expect(live.map((f) => (f.event.type === 'external.note' ? 'external' : f.event.data.n))).toEqual([
      1,
      'external',
      2,
    ]);
    const seen = stream.frames.map((f) => f.event.id);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(seen.length);
    await stream.close();
  });

  it('delivers events written by another connection through NOTIFY', async () => {
    const ids = await setup();
    const stream = openStream(`${base}/api/v1/events?project_id=${ids.project}`, { 'last-event-id': '0' });
    await waitFor(() => stream.frames.length >= 2, 'the replay');
    // Written with plain SQL (no in-process poke): only the NOTIFY can bring it to the stream.
    await getDb().transaction(async (tx) => {
      const [row] = await tx.query<{ id: number }>(
        `INSERT INTO events (type, project_id, data) VALUES ('external.note', $1, '{}') RETURNING id`,
        [ids.project],
      );
      await tx.query(`SELECT pg_notify('omoi_events', $1)`, [String(row!.id)]);
    });
    await waitFor(() => stream.frames.some((f) => f.event.type === 'external.note'), 'the NOTIFY delivery');
    if (kind === 'postgres') {
      // A second process's services against the same database.
      const { url, searchPath } = getTestDatabase();
      const otherDb = await openDatabase({ url: url!, searchPath: searchPath!, migrate: false, poolSize: 2 });
      const other = await createServices(otherDb);
      try {
        await other.events.append({
          type: 'agent.message',
          data: { text: 'from another process' },
          projectId: ids.project,
        });
        await waitFor(
          () =>
            stream.frames.some(
              (f) => f.event.type === 'agent.message' && f.event.data.text === 'from another process',
            ),
          'the cross-process event',
        );
      } finally {
        await other.stop();
        await otherDb.close();
      }
    }
    await stream.close();
  });
});

it('ends a stream whose database fails with one error frame, and no stack trace', async () => {
  const database = await openTestDatabase('pglite');
  const services = await createServices(database.db);
  const server = await startServer(loadServerConfig({ OMOI_PORT: '0' }, { webDir: null }), { services });
  try {
    await database.db.close();
    const res = await fetch(`${server.url}/api/v1/events?last_event_id=0`);
    expect(res.status).toBe(200);
    const body = await res.text(); // the stream ends: text() returns
    expect(body).toContain('event: error\ndata: {"code":"INTERNAL","message":"the event stream failed"}\n\n');
    expect(body).not.toMatch(/at .*\.(ts|js):\d+/);
  } finally {
    await server.close();
    await services.stop().catch(() => {});
  }
});
