// A subscriber that stops reading: the server does not hold an ever longer backlog for it. Once it
// is more than 8 MB behind its stream ends; reconnecting with Last-Event-ID brings every event it
// missed, from the table, each once and in order. The client is node:http with its socket paused.
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/api/main.js';
import { loadServerConfig } from '../../src/core/config.js';
import { createServices, type Services } from '../../src/core/services.js';
import { type Db, openDatabase } from '../../src/db/client.js';
import { TEST_REPO, uniqueName, waitFor } from './support.js';

let db: Db;
let services: Services;
let server: RunningServer;

beforeAll(async () => {
  db = await openDatabase({});
  services = await createServices(db);
  server = await startServer(loadServerConfig({ OMOI_PORT: '0' }, { webDir: null }), { services });
});
afterAll(async () => {
  await server?.close();
  await services?.stop();
  await db?.close();
});

/** Reads a stream's frame ids; `ended` once the server ends it. Starts paused when asked. */
function follow(url: string, lastEventId: string, paused: boolean) {
  const ids: number[] = [];
  let ended = false;
  let response: http.IncomingMessage | null = null;
  const req = http.get(url, { headers: { 'last-event-id': lastEventId }, agent: false }, (res) => {
    response = res;
    if (paused) res.pause();
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (chunk: string) => {
      buffer += chunk;
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop() ?? '';
      for (const block of blocks) {
        const id = block.split('\n').find((line) => line.startsWith('id: '));
        if (id) ids.push(Number(id.slice(4)));
      }
    });
    res.on('end', () => {
      ended = true;
    });
  });
  req.on('error', () => {});
  return {
    ids,
    ended: () => ended,
    opened: () => response !== null,
    resume: () => response?.resume(),
    close: () => req.destroy(),
  };
}

it('ends the stream of a subscriber 8 MB behind; it resumes from Last-Event-ID with every event once', async () => {
  const project = await services.projects.create({ name: uniqueName('backlog'), repo_url: TEST_REPO });
  const url = `${server.url}/api/v1/events?project_id=${project.id}`;
  const max = (await db.query<{ max: number }>('SELECT max(id)::int AS max FROM events'))[0]?.max ?? 0;
  const slow = follow(url, String(max), true);
  await waitFor(() => slow.opened() && services.events.hub.size > 0, 'the stream to open');

  // 40 MB of events: more than the sockets' buffers take, and 8 MB more than that.
  const big = 'x'.repeat(64 * 1024);
  for (let batch = 0; batch < 20; batch++) {
    await services.events.appendMany(
      Array.from({ length: 32 }, (_, n) => ({
        type: 'agent.message' as const,
        projectId: project.id,
        data: { text: big, n: batch * 32 + n },
      })),
    );
  }
  const appended = (await services.events.list({ project_id: project.id }, max, 10_000)).map((e) => e.id);
  expect(appended.length).toBe(640);

  slow.resume();
  await waitFor(() => slow.ended(), 'the server to end the stream of the subscriber that fell behind');
  expect(slow.ids.length).toBeLessThan(appended.length);
  expect(slow.ids).toEqual(appended.slice(0, slow.ids.length));

  const again = follow(url, String(slow.ids.at(-1) ?? max), false);
  await waitFor(() => slow.ids.length + again.ids.length >= appended.length, 'the rest after resuming');
  expect([...slow.ids, ...again.ids]).toEqual(appended);
  again.close();
});
