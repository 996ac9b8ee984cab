// `omoi start` with OMOI_SANDBOX=docker|daytona|e2b, end to end: the registry builds the provider
// from the environment, the orchestrator hands it the env contract with OMOI_PUBLIC_URL as
// OMOIOS_API_URL, and the bundled worker runs a spec-driven ticket in the (fake) remote sandbox:
// specs pushed to the repository and synced back. Needs `npm run build` (dist/ and the bundle).
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerProvider } from '../../src/sandbox/docker.js';
import { WORKER_COMMAND, workerUploads } from '../../src/sandbox/worker-files.js';
import { startFakeDaytona } from '../support/fakes/daytona-service.js';
import { startFakeDockerEngine } from '../support/fakes/docker-engine.js';
import { startFakeE2B } from '../support/fakes/e2b-service.js';
import { createGitRemote, git } from '../support/git-remote.js';
import { eventually, freePort } from '../support/wait.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const DATABASE_URL = process.env.OMOI_TEST_DATABASE_URL || undefined;
let root: string;
let remote: string;
let admin: pg.Client | undefined;
const databases: string[] = [];

beforeAll(async () => {
  expect(existsSync(join(repoRoot, 'dist', 'worker.bundle.mjs')), 'run `npm run build` first').toBe(true);
  root = mkdtempSync(join(tmpdir(), 'omoi-start-remote-'));
  remote = createGitRemote(root);
  if (DATABASE_URL) {
    admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
  }
});

afterAll(async () => {
  for (const name of databases)
    await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
  await admin?.end();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function call<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

interface TicketDetail {
  tasks: { id: string; status: string; error?: string | null }[];
  spec_documents: { spec_id: string; kind: string }[];
  events: { type: string; data: Record<string, unknown> }[];
}

/** Starts `omoi start --no-web` with `env`, runs one spec ticket, returns what the ticket shows. */
async function runTicket(
  name: string,
  env: Record<string, string>,
  beforeStop: () => Promise<unknown> = async () => undefined,
): Promise<{ detail: TicketDetail; log: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const database: Record<string, string> = {};
  if (admin && DATABASE_URL) {
    const db = `omoi_remote_${name}_${process.pid}`;
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${db}`);
    databases.push(db);
    const target = new URL(DATABASE_URL);
    target.pathname = `/${db}`;
    database.DATABASE_URL = target.toString();
  }
  const output: string[] = [];
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin', 'omoi.js'),
      'start',
      '--no-web',
      '--port',
      String(port),
      '--data',
      join(root, name),
    ],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? root,
        AGENT_RUNTIME: 'offline',
        OMOI_PUBLIC_URL: url,
        OMOI_POLL_MS: '500',
        ...database,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  try {
    await eventually(
      async () => child.exitCode === null && (await fetch(`${url}/api/v1/health`)).ok,
      'omoi start',
    );
    const project = await call<{ id: string }>(url, 'POST', '/projects', {
      name: `shop-${name}`,
      repo_url: remote,
    });
    const { ticket } = await call<{ ticket: { id: string } }>(url, 'POST', '/tickets', {
      project_id: project.id,
      title: `Gift cards (${name})`,
      description: 'Shoppers can buy and redeem gift cards at checkout; balances never go negative.',
      workflow_mode: 'spec_driven',
    });
    const detail = await eventually(
      async () => {
        const current = await call<TicketDetail>(url, 'GET', `/tickets/${ticket.id}`);
        const status = current.tasks[0]?.status;
        return status === 'completed' || status === 'failed' ? current : false;
      },
      `the ticket's task to finish (${output.join('')})`,
    );
    await beforeStop();
    return { detail, log: output.join('') };
  } finally {
    child.kill('SIGTERM');
    await eventually(
      async () => child.exitCode !== null || child.signalCode !== null,
      'omoi start to stop',
      30_000,
    );
  }
}

function expectSpecRun(name: string, { detail, log }: { detail: TicketDetail; log: string }) {
  const task = detail.tasks[0];
  expect(task?.status, `${task?.error ?? ''}\n${log}`).toBe('completed');
  const types = detail.events.map((event) => event.type);
  for (const type of ['sandbox.spawned', 'skill.injected', 'spec.validation', 'git.pushed', 'spec.synced']) {
    expect(types, type).toContain(type);
  }
  expect(detail.events.find((event) => event.type === 'sandbox.spawned')?.data.provider).toBe(name);
  expect(detail.spec_documents.some((doc) => doc.kind === 'ticket')).toBe(true);
  const pushed = detail.events.find((event) => event.type === 'git.pushed')?.data;
  expect(git(remote, 'rev-parse', `refs/heads/${String(pushed?.branch)}`)).toBe(pushed?.commit);
}

describe('omoi start with a remote sandbox provider', () => {
  it('docker: a container from the worker image runs the spec ticket', async () => {
    // The image's file system, laid out as deploy/Dockerfile builds it.
    const image = join(root, 'image');
    for (const file of workerUploads(repoRoot)) {
      mkdirSync(dirname(join(image, file.to)), { recursive: true });
      cpSync(file.from, join(image, file.to));
    }
    const [node, bundle, ...args] = WORKER_COMMAND;
    const engine = await startFakeDockerEngine({
      images: { 'omoi-worker:e2e': [node ?? 'node', join(image, bundle ?? ''), ...args] },
    });
    try {
      // A container a crashed orchestrator left behind: no task owns it, the sweeper removes it.
      const orphan = await createDockerProvider({ host: engine.host, image: 'omoi-worker:e2e' }).create({
        taskId: 'tsk_gone',
        env: {},
      });
      // A sweep every 2 s: the ticket's own container is recorded long before two sweeps pass.
      const run = await runTicket(
        'docker',
        {
          OMOI_SANDBOX: 'docker',
          DOCKER_HOST: engine.host,
          OMOI_DOCKER_IMAGE: 'omoi-worker:e2e',
          OMOI_ORPHAN_SWEEP_MS: '2000',
        },
        () => eventually(async () => !engine.containers.has(orphan.id), 'the orphan to be swept', 60_000),
      );
      expectSpecRun('docker', run);
      expect(engine.containers.has(orphan.id), 'the orphan was swept').toBe(false);
      expect(engine.containers.size, 'the container was removed').toBe(0);
    } finally {
      await engine.close();
    }
  });

  it('e2b: the bundle is uploaded into a sandbox and runs the spec ticket', async () => {
    const e2b = await startFakeE2B({ templates: ['omoi-worker'] });
    try {
      const run = await runTicket('e2b', {
        OMOI_SANDBOX: 'e2b',
        E2B_API_KEY: e2b.apiKey,
        E2B_API_URL: e2b.url,
        // Read by the e2b SDK itself: one address for every sandbox's envd (the fake's).
        E2B_SANDBOX_URL: e2b.url,
        OMOI_E2B_TEMPLATE: 'omoi-worker',
      });
      expectSpecRun('e2b', run);
      expect(e2b.sandboxes.size, 'the sandbox was killed').toBe(0);
    } finally {
      await e2b.close();
    }
  });

  it('daytona: the bundle is uploaded into a sandbox and runs the spec ticket', async () => {
    const daytona = await startFakeDaytona();
    try {
      const run = await runTicket('daytona', {
        OMOI_SANDBOX: 'daytona',
        DAYTONA_API_KEY: daytona.apiKey,
        DAYTONA_API_URL: daytona.apiUrl,
      });
      expectSpecRun('daytona', run);
      expect(daytona.sandboxes.size, 'the sandbox was deleted').toBe(0);
    } finally {
      await daytona.close();
    }
  });
});
