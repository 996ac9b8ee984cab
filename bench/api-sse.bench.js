// `npm run bench -- api-sse`: SSE fan-out. A real `omoi` API server (in this process, embedded
// in-memory PGlite) with 200 subscribers on GET /api/v1/events; events posted through
// POST /tasks/:id/events. Two measures, each with its baseline in the same run:
// - throughput: 5,000 events posted by 8 concurrent posters as fast as the API takes them, with the
//   200 subscribers and with none (before and after the measured side, the mean of the two), so a
//   neighbour's load on this shared machine falls on both; the ratio is the fan-out's cost;
// - delay, post → receipt at every subscriber: 1,500 events posted at a steady third of the
//   no-subscriber rate (at full rate the posts queue on the database and the delay is mostly that
//   queue, which the saturated figures show too). Its baseline is the POST's own round trip at
//   that rate: no subscriber can hear of an event sooner than its commit.
// Checks that no subscriber lost or repeated an event. The subscribers run in a child process
// (bench/api-sse-subscribers.js), so parsing the frames does not run on the server's event loop;
// both share this machine's cores.
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startServer } from '../dist/api/main.js';
import { loadServerConfig } from '../dist/core/config.js';
import { createServices } from '../dist/core/services.js';
import { openDatabase } from '../dist/db/client.js';
import { makeRemote, quantile } from './run-helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const SUBSCRIBERS = 200;
const EVENTS = 5000;
const PACED_EVENTS = 1500;
/** The delay is measured at this share of the no-subscriber rate, which the machine keeps up with. */
const PACED_SHARE = 1 / 3;
const POSTERS = 8;

async function post(base, path, body) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

const eventBody = (seq, phase) => ({
  type: 'agent.message',
  data: { seq, phase, sent: performance.timeOrigin + performance.now() },
});

/** Closed loop: POSTERS posters, each posting its next event once the last one answered. */
async function postAll(base, taskId, count) {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: POSTERS }, async () => {
      for (;;) {
        const seq = next++;
        if (seq >= count) return;
        await post(base, `/tasks/${taskId}/events`, eventBody(seq, 'load'));
      }
    }),
  );
  return performance.now() - start;
}

/** Open loop: one event every 1/rate s whatever the answers; returns each POST's round trip. */
async function postPaced(base, taskId, count, rate) {
  const start = performance.now();
  const posts = [];
  for (let seq = 0; seq < count; seq++) {
    const due = start + (seq * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sent = performance.now();
    posts.push(
      post(base, `/tasks/${taskId}/events`, eventBody(seq, 'paced')).then(() => performance.now() - sent),
    );
  }
  return Promise.all(posts);
}

export default async function () {
  const db = await openDatabase({});
  const services = await createServices(db);
  const server = await startServer(loadServerConfig({ OMOI_PORT: '0' }, { webDir: null }), { services });
  const base = server.url;
  const { tmp, remote } = makeRemote();
  try {
    const project = await post(base, '/projects', { name: `bench-${Date.now()}`, repo_url: remote });
    const { task } = await post(base, '/tickets', {
      project_id: project.id,
      description: 'bench',
      workflow_mode: 'quick',
    });
    await postAll(base, task.id, 200); // warm-up
    // The process's own subscribers (the webhook dispatcher) stay on the hub throughout.
    const ownSubscribers = services.events.hub.size;

    // Baseline: the same posts, nobody listening (again after the measured side).
    const baselineBeforeMs = await postAll(base, task.id, EVENTS);
    const [{ max }] = await db.query('SELECT max(id) AS max FROM events');

    const child = fork(join(here, 'api-sse-subscribers.js'), [
      base,
      project.id,
      String(max),
      String(SUBSCRIBERS),
      String(EVENTS + PACED_EVENTS),
    ]);
    const messages = [];
    child.on('message', (m) => messages.push(m));
    const next = async (type) => {
      for (;;) {
        const found = messages.find((m) => m.type === type);
        if (found) return found;
        if (child.exitCode !== null) throw new Error('the subscriber process exited early');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await next('ready');
    while (services.events.hub.size < ownSubscribers + SUBSCRIBERS)
      await new Promise((r) => setTimeout(r, 20));

    const postStart = performance.timeOrigin + performance.now();
    const postMs = await postAll(base, task.id, EVENTS);
    const pacedRate = (EVENTS / baselineBeforeMs) * 1000 * PACED_SHARE;
    const roundTrips = await postPaced(base, task.id, PACED_EVENTS, pacedRate);
    const timeout = setTimeout(() => child.send('stop'), 300_000);
    const result = await next('result');
    clearTimeout(timeout);
    while (services.events.hub.size > ownSubscribers) await new Promise((r) => setTimeout(r, 20));
    const baselineMs = (baselineBeforeMs + (await postAll(base, task.id, EVENTS))) / 2;
    const deliveredMs = result.lastReceipt - postStart;
    const { complete, ordered } = result;
    const rate = EVENTS / (postMs / 1000);
    const baselineRate = EVENTS / (baselineMs / 1000);
    const fmt = (n) => n.toFixed(1);
    const trip = (q) => quantile(roundTrips, q);
    console.log(
      `subscribers ${SUBSCRIBERS}, posters ${POSTERS} (embedded PGlite; subscribers in a child process)`,
    );
    console.log(
      `throughput, ${EVENTS} events: no subscriber (baseline, mean of before and after) ${fmt(baselineRate)} events/s; ` +
        `${SUBSCRIBERS} subscribers ${fmt(rate)} events/s (ratio ${(rate / baselineRate).toFixed(2)})`,
    );
    console.log(
      `  post -> receipt at that rate (posts queue on the database): p50 ${fmt(result.load.p50)} ms, p99 ${fmt(result.load.p99)} ms`,
    );
    console.log(
      `delay, ${PACED_EVENTS} events at ${fmt(pacedRate)}/s: post -> receipt p50 ${fmt(result.paced.p50)} ms, p99 ${fmt(result.paced.p99)} ms, max ${fmt(result.paced.max)} ms; ` +
        `the POST's own round trip (baseline) p50 ${fmt(trip(0.5))} ms, p99 ${fmt(trip(0.99))} ms`,
    );
    console.log(
      `delivered ${result.frames} frames in ${fmt(deliveredMs)} ms: ${fmt((result.frames / deliveredMs) * 1000)} frames/s`,
    );
    console.log(
      `subscribers with every event exactly once: ${complete}/${SUBSCRIBERS}; in id order: ${ordered ? 'yes' : 'NO'}`,
    );
    if (complete !== SUBSCRIBERS || !ordered) process.exitCode = 1;
    return {
      subscribers: SUBSCRIBERS,
      complete,
      ordered,
      p50: result.paced.p50,
      p99: result.paced.p99,
      postP99: trip(0.99),
      loadP99: result.load.p99,
      postRatio: rate / baselineRate,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await server.close();
    await services.stop();
    await db.close();
  }
}
