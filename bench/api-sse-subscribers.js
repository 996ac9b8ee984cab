// Child process of bench/api-sse.bench.js: opens the SSE subscribers, so that parsing a million
// frames does not run on the server's event loop. Reports over IPC: 'ready' once every stream is
// open, then the delivery figures once every subscriber has every event (or on 'stop').
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const [base, projectId, afterId, count, expected] = process.argv.slice(2);
const SUBSCRIBERS = Number(count);
const EVENTS = Number(expected);
const now = () => performance.timeOrigin + performance.now();

const received = Array.from({ length: SUBSCRIBERS }, () => []);
/** post -> receipt delays, by the phase the poster named ('load', 'paced'). */
const delays = { load: [], paced: [] };
let delayCount = 0;
let lastReceipt = 0;
const controllers = [];

/**
 * One subscriber over node:http (not fetch): the subscribers share this machine's cores with the
 * server they measure, and fetch's web streams cost several times more per chunk than the server's
 * own write of it; what each frame carries is still parsed and checked.
 */
function subscribe(list) {
  return new Promise((opened, failed) => {
    const controller = new AbortController();
    controllers.push(controller);
    const req = http.get(
      `${base}/api/v1/events?project_id=${projectId}`,
      { headers: { 'last-event-id': afterId }, signal: controller.signal, agent: false },
      (res) => {
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (value) => {
          buffer += value;
          let cut = buffer.indexOf('\n\n');
          while (cut >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const data = block.split('\n').find((l) => l.startsWith('data:'));
            if (data) {
              const event = JSON.parse(data.slice(5));
              const at = now();
              list.push(event.id);
              delays[event.data.phase].push(at - event.data.sent);
              delayCount += 1;
              lastReceipt = at;
            }
            cut = buffer.indexOf('\n\n');
          }
        });
        res.on('error', () => {});
        // The subscription counts as open once the response has started.
        opened();
      },
    );
    req.on('error', (error) => (controller.signal.aborted ? undefined : failed(error)));
  });
}

function report() {
  for (const c of controllers) c.abort();
  const figures = (values) => {
    const sorted = Float64Array.from(values).sort();
    const pick = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
    return { p50: pick(50), p99: pick(99), max: sorted.at(-1) ?? NaN };
  };
  process.send(
    {
      type: 'result',
      frames: delayCount,
      complete: received.filter((l) => l.length === EVENTS && new Set(l).size === EVENTS).length,
      ordered: received.every((l) => l.every((id, i) => i === 0 || id > l[i - 1])),
      load: figures(delays.load),
      paced: figures(delays.paced),
      lastReceipt,
    },
    () => process.exit(0),
  );
}

await Promise.all(received.map((list) => subscribe(list)));
process.send({ type: 'ready' });
process.on('message', (msg) => {
  if (msg === 'stop') report();
});
const poll = setInterval(() => {
  if (received.every((l) => l.length >= EVENTS)) {
    clearInterval(poll);
    report();
  }
}, 20);
