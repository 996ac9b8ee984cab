// Real `omoi start` processes, real git remotes and the API over HTTP, for the end-to-end run suites.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { eventually, freePort } from '../../support/wait.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'omoi.js');

/** Builds dist/ when sources changed (the suites run the built `omoi`). */
export function ensureBuilt(): void {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'ensure-built.js')], { stdio: 'inherit' });
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A bare repository with one commit on main, standing in for the project's remote. */
export async function createRemote(root: string, name = 'remote.git'): Promise<string> {
  const remote = join(root, name);
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  const seed = await mkdtemp(join(tmpdir(), 'omoi-seed-'));
  git(seed, 'clone', '--quiet', remote, 'repo');
  await writeFile(join(seed, 'repo', 'README.md'), '# demo app\n');
  git(join(seed, 'repo'), 'add', '.');
  git(
    join(seed, 'repo'),
    '-c',
    'user.name=dev',
    '-c',
    'user.email=dev@example.com',
    'commit',
    '--quiet',
    '-m',
    'init',
  );
  git(join(seed, 'repo'), 'push', '--quiet', 'origin', 'HEAD:main');
  return remote;
}

export { eventually };

export interface OmoiServer {
  url: string;
  child: ChildProcess;
  output: string[];
  /** Calls the API; throws on a non-2xx answer with its body. */
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  /** SIGTERM and wait (graceful), or SIGKILL with `hard`. */
  stop(hard?: boolean): Promise<void>;
}

/**
 * Starts `omoi start --no-web` on a free port with `env` (plus PATH and HOME) and waits for /health.
 * The server's own environment is built here, so nothing of the test runner's env leaks into it.
 */
export async function startOmoi(options: {
  dataDir: string;
  env?: Record<string, string>;
}): Promise<OmoiServer> {
  const port = await freePort();
  await mkdir(options.dataDir, { recursive: true });
  const output: string[] = [];
  const child = spawn(
    process.execPath,
    [BIN, 'start', '--port', String(port), '--data', options.dataDir, '--no-web'],
    {
      cwd: options.dataDir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        OMOI_POLL_MS: '1000',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.setEncoding('utf8').on('data', (d: string) => output.push(d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => output.push(d));
  let ended = false;
  child.once('error', (error) => {
    ended = true;
    output.push(String(error));
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      ended = true;
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
  // A server that exits (or cannot be spawned) ends the wait at once, with its output.
  await eventually(
    async () => ended || (await fetch(`${url}/api/v1/health`)).ok,
    'omoi start to answer /health',
  ).catch((error) => {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}\n${output.join('')}`);
  });
  if (ended) throw new Error(`omoi start exited:\n${output.join('')}`);
  return {
    url,
    child,
    output,
    api,
    async stop(hard = false) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(hard ? 'SIGKILL' : 'SIGTERM');
      await exited;
    },
  };
}

export interface OmoiEvent {
  id: number;
  type: string;
  ts: string;
  task_id: string | null;
  ticket_id: string | null;
  data: Record<string, unknown>;
}

/** All stored events of a ticket so far, through the SSE endpoint's replay (Last-Event-ID: 0). */
export async function ticketEvents(server: OmoiServer, ticketId: string, until: (e: OmoiEvent[]) => boolean) {
  const controller = new AbortController();
  const events: OmoiEvent[] = [];
  const response = await fetch(`${server.url}/api/v1/events?ticket_id=${ticketId}`, {
    headers: { 'last-event-id': '0', accept: 'text/event-stream' },
    signal: controller.signal,
  });
  if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      if (until(events)) return events;
      const { value, done } = await reader.read();
      if (done) return events;
      buffer += value;
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = frame
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        if (data) {
          try {
            const parsed = JSON.parse(data) as OmoiEvent;
            if (parsed && typeof parsed.type === 'string') events.push(parsed);
          } catch {
            // comments and non-event frames
          }
        }
        cut = buffer.indexOf('\n\n');
      }
    }
  } finally {
    controller.abort();
  }
}

/** A database URL for one suite: a fresh database on OMOI_TEST_DATABASE_URL's server, or null. */
export async function freshPostgres(): Promise<{ url: string; drop(): Promise<void> } | null> {
  const base = process.env.OMOI_TEST_DATABASE_URL;
  if (!base) return null;
  const name = `omoi_e2e_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect(); // fails the suite when the server is unreachable
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
