import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export { freePort } from '../../support/wait.js';

import { freePort } from '../../support/wait.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Omoi Test',
      GIT_AUTHOR_EMAIL: 'test@omoi.local',
      GIT_COMMITTER_NAME: 'Omoi Test',
      GIT_COMMITTER_EMAIL: 'test@omoi.local',
    },
  });
}

/** A bare repository with one commit on `main`, to serve as a project's remote. */
export function createBareRepo(parent: string, name = 'remote.git'): string {
  const bare = join(parent, name);
  const seed = join(parent, `${name}-seed`);
  git(parent, 'init', '--bare', '--initial-branch=main', bare);
  git(parent, 'init', '--initial-branch=main', seed);
  execFileSync('sh', ['-c', 'printf "# Demo\\n\\nA project for the web journeys.\\n" > README.md'], {
    cwd: seed,
  });
  git(seed, 'add', 'README.md');
  git(seed, 'commit', '-m', 'initial commit');
  git(seed, 'push', bare, 'main');
  rmSync(seed, { recursive: true, force: true });
  return bare;
}

/** Branches of a bare repository, to check what a run pushed. */
export function branchesOf(bare: string): string[] {
  return git(bare, 'for-each-ref', '--format=%(refname:short)', 'refs/heads').split('\n').filter(Boolean);
}

export interface RunningOmoi {
  url: string;
  dataDir: string;
  tmp: string;
  output: () => string;
  /** Stops the server (SIGTERM, as a person would) without removing its data folder. */
  halt: () => Promise<void>;
  /** Starts it again after halt(), on the same port and data folder. */
  resume: () => Promise<void>;
  stop: () => Promise<void>;
}

// Model keys would switch the run to a real model; the journeys use the offline runtime.
const MODEL_VARIABLES =
  /^(ANTHROPIC_|OPENAI_|OMOI_MODEL$|OMOI_TEST_RUNTIME_SCRIPT$|AGENT_RUNTIME$|DATABASE_URL$)/;

interface Launched {
  child: ChildProcess;
  exited: Promise<number | null>;
}

async function launch(
  tmp: string,
  dataDir: string,
  port: number,
  log: (text: string) => void,
  extraEnv: Record<string, string> = {},
): Promise<Launched> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!MODEL_VARIABLES.test(key)) env[key] = value;
  env.AGENT_RUNTIME = 'offline';
  Object.assign(env, extraEnv);
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'omoi.js'), 'start', '--port', String(port), '--host', '127.0.0.1', '--data', dataDir],
    { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk) => log(String(chunk)));
  child.stderr?.on('data', (chunk) => log(String(chunk)));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`omoi start exited with ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('omoi start did not answer /api/v1/health within 120 s');
    }
    try {
      if ((await fetch(`${url}/api/v1/health`)).ok) return { child, exited };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function terminate({ child, exited }: Launched): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts the built `omoi start` on a free port with a temporary data folder and the offline
 * runtime, and waits until /api/v1/health answers. Needs `npm run build` first.
 */
export async function startOmoi(extraEnv: Record<string, string> = {}): Promise<RunningOmoi> {
  if (
    !existsSync(join(ROOT, 'dist', 'cli', 'main.js')) ||
    !existsSync(join(ROOT, 'web', 'dist', 'index.html'))
  ) {
    throw new Error('dist/ or web/dist/ is missing: run `npm run build` before `npm run test:e2e`');
  }
  const tmp = mkdtempSync(join(tmpdir(), 'omoi-web-e2e-'));
  const dataDir = join(tmp, 'data');
  const port = await freePort();
  let output = '';
  const log = (text: string) => {
    output += text;
  };
  const fail = (error: unknown): never => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}:\n${output}`);
  };
  let current = await launch(tmp, dataDir, port, log, extraEnv).catch(fail);
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    tmp,
    output: () => output,
    halt: () => terminate(current),
    resume: async () => {
      current = await launch(tmp, dataDir, port, log, extraEnv).catch(fail);
    },
    stop: async () => {
      await terminate(current);
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Runs the built `omoi` against `omoi` with stdin closed (not a terminal): exit code and output. */
export function runOmoiCli(omoi: RunningOmoi, args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'omoi.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: omoi.tmp,
      env: { PATH: process.env.PATH, HOME: omoi.tmp, OMOIOS_API_URL: omoi.url },
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

/**
 * A JSON call to a running server's API under `base` (`${omoi.url}/api/v1`), as a person's script
 * makes it; a refusal throws with its status and body.
 *
 * @example
 * const api = <T>(method: string, path: string, body?: unknown) => callApi<T>(`${omoi.url}/api/v1`, method, path, body);
 */
export async function callApi<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}
