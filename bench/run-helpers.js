// Shared by the run-* benchmarks: a real `omoi start` (offline runtime, embedded database in a temp
// folder), a bare git repository as the project's remote, and a client of the event stream.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
export const median = (values) => quantile(values, 0.5);

export function git(cwd, ...args) {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A temp folder with a bare repository `remote.git` holding one commit on main. */
export function makeRemote() {
  const tmp = mkdtempSync(join(tmpdir(), 'omoi-bench-run-'));
  const remote = join(tmp, 'remote.git');
  git(tmp, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  git(tmp, 'clone', '--quiet', remote, 'seed');
  writeFileSync(join(tmp, 'seed', 'README.md'), '# bench\n');
  git(join(tmp, 'seed'), 'add', '.');
  git(join(tmp, 'seed'), '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '--quiet', '-m', 'init');
  git(join(tmp, 'seed'), 'push', '--quiet', 'origin', 'HEAD:main');
  return { tmp, remote };
}

async function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts `omoi start --no-web` with only PATH, HOME and `env`; resolves once /health answers. */
export async function startOmoi(tmp, name, env = {}) {
  const port = await freePort();
  const data = join(tmp, name);
  mkdirSync(data, { recursive: true });
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'omoi.js'), 'start', '--port', String(port), '--data', data, '--no-web'],
    {
      cwd: data,
      env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp', AGENT_RUNTIME: 'offline', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i += 1) {
    if (child.exitCode !== null) throw new Error(`omoi start exited: ${stderr}`);
    try {
      if ((await fetch(`${url}/api/v1/health`)).ok) break;
    } catch {}
    if (i > 1200) throw new Error(`omoi start did not answer: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const api = async (method, path, body) => {
    const res = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    url,
    api,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/**
 * Follows every event of a project over SSE; `waitFor(predicate)` resolves with the first event
 * (seen before or after the call) that matches, stamped with `receivedAt` (performance.now()).
 */
export async function followProject(url, projectId) {
  const seen = [];
  const waiters = [];
  const controller = new AbortController();
  const res = await fetch(`${url}/api/v1/events?project_id=${projectId}`, {
    headers: { accept: 'text/event-stream', 'last-event-id': '0' },
    signal: controller.signal,
  });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        const parts = buffer.split('\n\n');
        buffer = parts.pop();
        for (const part of parts) {
          const data = part
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (!data) continue;
          let event;
          try {
            event = JSON.parse(data);
          } catch {
            continue;
          }
          if (typeof event?.type !== 'string') continue;
          event.receivedAt = performance.now();
          seen.push(event);
          for (const w of [...waiters]) {
            if (w.predicate(event)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(event);
            }
          }
        }
      }
    } catch {}
  })();
  return {
    seen,
    waitFor(predicate) {
      const hit = seen.find(predicate);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    close: () => controller.abort(),
  };
}
