// `npm run bench -- api-startup`: `omoi start` (the built CLI, a new process) on an existing data
// folder until /health answers, and its resident memory once idle, next to a bare Node HTTP server
// (`node -e` with http.createServer) measured the same way in the same run. The data folder is
// created once first; that first creation (initdb inside PGlite: seconds) is printed separately and
// is not part of the median. The orchestrator runs as in a normal start (no tasks are pending).
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

async function series(args, path) {
  const times = [];
  const rss = [];
  for (let i = 0; i < RUNS; i++) {
    const { child, ms } = await launch(args, path);
    times.push(ms);
    await new Promise((r) => setTimeout(r, 2000));
    rss.push(rssMb(child.pid));
    await stop(child);
  }
  return { ms: median(times), rss: median(rss) };
}

export default async function () {
  const data = mkdtempSync(join(tmpdir(), 'omoi-bench-start-'));
  const omoi = [join(repo, 'bin', 'omoi.js'), 'start', '--data', data, '--port', '0', '--json'];
  try {
    const first = await launch(omoi, '/health');
    await stop(first.child);
    const bare = await series(
      [
        '-e',
        "const s=require('http').createServer((q,r)=>r.end('ok')).listen(0,'127.0.0.1',()=>console.log(JSON.stringify({port:s.address().port})))",
      ],
      '/',
    );
    const started = await series(omoi, '/health');
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
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}
