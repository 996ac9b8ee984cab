// `npm run bench -- api-startup`: `omoi start` (the built CLI, a new process) on an existing data
// folder until /health answers, and its resident memory once idle, next to a bare Node HTTP server
// (`node -e` with http.createServer) measured the same way in the same run. The data folder is
// created once first; that first creation (initdb inside PGlite: seconds) is printed separately and
// is not part of the median. Each run starts the bare server and then omoi (interleaved). The orchestrator runs as in a normal start (no tasks are pending).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 5;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

/** Spawns, waits for the printed port, then polls `path` until it answers 200. */
async function launch(args, path) {
  const start = performance.now();
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${err}`);
    const port = /"port":\s*(\d+)/.exec(out)?.[1];
    if (port) {
      const ok = await fetch(`http://127.0.0.1:${port}${path}`)
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) return { child, ms: performance.now() - start };
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function stop(child) {
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** One start of `args`: time to the first 200 and the resident memory once idle. */
async function once(args, path) {
  const { child, ms } = await launch(args, path);
  await new Promise((r) => setTimeout(r, 2000));
  const rss = rssMb(child.pid);
  await stop(child);
  return { ms, rss };
}

/** Each run starts both, one after the other, so a neighbour's load falls on both alike. */
async function interleaved(a, b) {
  const runs = { a: [], b: [] };
  for (let i = 0; i < RUNS; i++) {
    runs.a.push(await once(...a));
    runs.b.push(await once(...b));
  }
  const summary = (list) => ({ ms: median(list.map((r) => r.ms)), rss: median(list.map((r) => r.rss)) });
  return [summary(runs.a), summary(runs.b)];
}

export default async function () {
  const data = mkdtempSync(join(tmpdir(), 'omoi-bench-start-'));
  const omoi = [join(repo, 'bin', 'omoi.js'), 'start', '--data', data, '--port', '0', '--json'];
  try {
    const first = await launch(omoi, '/health');
    await stop(first.child);
    const [bare, started] = await interleaved(
      [
        [
          '-e',
          "const s=require('http').createServer((q,r)=>r.end('ok')).listen(0,'127.0.0.1',()=>console.log(JSON.stringify({port:s.address().port})))",
        ],
        '/',
      ],
      [omoi, '/health'],
    );
    const fmt = (n) => n.toFixed(0);
    console.log(`first start (creates the PGlite data folder): ${fmt(first.ms)} ms (not in the median)`);
    console.log(`median of ${RUNS}, until the first 200:`);
    console.log(
      `  bare node http server        ${fmt(bare.ms).padStart(6)} ms   idle RSS ${fmt(bare.rss)} MB`,
    );
    console.log(
      `  omoi start (existing folder) ${fmt(started.ms).padStart(6)} ms   idle RSS ${fmt(started.rss)} MB`,
    );
    console.log(
      `  ratio omoi / bare: start ${(started.ms / bare.ms).toFixed(1)}x, memory ${(started.rss / bare.rss).toFixed(1)}x`,
    );
    return {
      startMs: started.ms,
      bareMs: bare.ms,
      startRatio: started.ms / bare.ms,
      rssMb: started.rss,
      bareRssMb: bare.rss,
      rssRatio: started.rss / bare.rss,
      firstMs: first.ms,
    };
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}
