// `npm run bench -- api-sse`: SSE fan-out. A real `omoi` API server (in this process, embedded
// in-memory PGlite) with 200 subscribers on GET /api/v1/events; 5,000 events posted through
// POST /tasks/:id/events by 8 concurrent posters, as fast as the API takes them. Prints events/s,
// the p50/p99 delay from post to receipt at the subscribers, checks that no subscriber lost or
// repeated an event, and the ratio against a baseline run of the same posts with no subscriber.
// The subscribers share this process (and its 2 cores) with the server, so the figures include
// the cost of parsing 1,000,000 frames on the client side.
import { performance } from 'node:perf_hooks';
import { startServer } from '../dist/api/main.js';
import { loadServerConfig } from '../dist/core/config.js';
import { createServices } from '../dist/core/services.js';
import { openDatabase } from '../dist/db/client.js';

const SUBSCRIBERS = 200;
const EVENTS = 5000;
const POSTERS = 8;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function post(base, path, body) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

function subscribe(base, projectId, afterId, onEvent) {
  const controller = new AbortController();
  let resolveOpen;
  const opened = new Promise((r) => (resolveOpen = r));
  const done = (async () => {
    const res = await fetch(`${base}/api/v1/events?project_id=${projectId}`, {
      headers: { 'last-event-id': String(afterId) },
      signal: controller.signal,
    });
    resolveOpen();
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
        const data = block.split('\n').find((l) => l.startsWith('data:'));
        if (data) onEvent(JSON.parse(data.slice(5)), performance.now());
        cut = buffer.indexOf('\n\n');
      }
    }
  })().catch(() => {});
  return { opened, close: () => controller.abort(), done };
}

async function postAll(base, taskId, count) {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: POSTERS }, async () => {
      for (;;) {
        const seq = next++;
        if (seq >= count) return;
        await post(base, `/tasks/${taskId}/events`, {
          type: 'bench.tick',
          data: { seq, sent: performance.now() },
        });
      }
    }),
  );
  return performance.now() - start;
}

export default async function () {
  const db = await openDatabase({});
  const services = await createServices(db);
  const server = await startServer(loadServerConfig({ OMOI_PORT: '0' }, { webDir: null }), { services });
  const base = server.url;
  try {
    const project = await post(base, '/projects', { name: `bench-${Date.now()}`, repo_url: '/bench.git' });
    const { task } = await post(base, '/tickets', {
      project_id: project.id,
      description: 'bench',
      workflow_mode: 'quick',
    });
    await postAll(base, task.id, 200); // warm-up

    // Baseline: the same posts, nobody listening.
    const baselineMs = await postAll(base, task.id, EVENTS);
    const [{ max }] = await db.query('SELECT max(id) AS max FROM events');

    const received = Array.from({ length: SUBSCRIBERS }, () => []);
    const delays = new Float64Array(SUBSCRIBERS * EVENTS);
    let delayCount = 0;
    let lastReceipt = 0;
    const subs = received.map((list) =>
      subscribe(base, project.id, max, (event, at) => {
        list.push(event.id);
        delays[delayCount++] = at - event.data.sent;
        lastReceipt = at;
      }),
    );
    await Promise.all(subs.map((s) => s.opened));
    while (services.events.hub.size < SUBSCRIBERS) await new Promise((r) => setTimeout(r, 20));

    const postStart = performance.now();
    const postMs = await postAll(base, task.id, EVENTS);
    const deadline = Date.now() + 120_000;
    while (received.some((l) => l.length < EVENTS) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const deliveredMs = lastReceipt - postStart;
    for (const s of subs) s.close();

    const complete = received.filter((l) => l.length === EVENTS && new Set(l).size === EVENTS).length;
    const ordered = received.every((l) => l.every((id, i) => i === 0 || id > l[i - 1]));
    const sorted = Array.from(delays.subarray(0, delayCount)).sort((a, b) => a - b);
    const rate = EVENTS / (postMs / 1000);
    const baselineRate = EVENTS / (baselineMs / 1000);
    const fmt = (n) => n.toFixed(1);
    console.log(
      `subscribers ${SUBSCRIBERS}, events ${EVENTS}, posters ${POSTERS} (embedded PGlite, one process)`,
    );
    console.log(`posted with no subscriber (baseline): ${fmt(baselineRate)} events/s`);
    console.log(
      `posted with ${SUBSCRIBERS} subscribers:       ${fmt(rate)} events/s  (ratio ${(rate / baselineRate).toFixed(2)} of baseline)`,
    );
    console.log(
      `delivered ${delayCount} frames (${SUBSCRIBERS} x ${EVENTS}) in ${fmt(deliveredMs)} ms: ${fmt((delayCount / deliveredMs) * 1000)} frames/s`,
    );
    console.log(
      `post -> receipt delay: p50 ${fmt(percentile(sorted, 50))} ms, p99 ${fmt(percentile(sorted, 99))} ms, max ${fmt(sorted.at(-1))} ms`,
    );
    console.log(
      `subscribers with every event exactly once: ${complete}/${SUBSCRIBERS}; in id order: ${ordered ? 'yes' : 'NO'}`,
    );
    if (complete !== SUBSCRIBERS || !ordered) process.exitCode = 1;
  } finally {
    await server.close();
    await services.stop();
    await db.close();
  }
}
