// `omoi start` as a user runs it (the built binary, a real data folder): the lock file refuses a
// second server on the same folder and names the first one's pid; SIGTERM releases it; what was
// written survives a restart; a lock left by a killed server is taken over. Also the CLI commands
// that talk to the running server.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_ROOT, TEST_REPO, waitFor } from './support.js';

const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'bin', 'omoi.js');
const scratch = mkdtempSync(join(tmpdir(), 'omoi-start-'));
const dataDir = join(scratch, 'data');

// The server's own environment, without anything of the test runner's that could point it elsewhere.
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME ?? scratch };
  return { ...out, OMOI_ORCHESTRATOR: 'false', ...extra };
}

interface Server {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function start(options: { dir?: string; env?: Record<string, string> } = {}): Promise<Server> {
  const child = spawn(
    process.execPath,
    [bin, 'start', '--data', options.dir ?? dataDir, '--port', '0', '--json', '--no-web'],
    {
      env: env(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const line = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`omoi start exited ${child.exitCode}: ${stderr}`);
      return stdout.split('\n').find((l) => l.startsWith('{'));
    },
    'omoi start to listen',
    90_000,
  );
  return { child, url: JSON.parse(line).url, stderr: () => stderr, exited };
}

function cli(args: string[], extra: Record<string, string> = {}, cwd = scratch) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: env(extra), cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function api(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: bodies are checked field by field below
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(() => {
  execFileSync(process.execPath, [join(repo, 'scripts', 'ensure-built.js')], { cwd: repo, stdio: 'inherit' });
}, 600_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('omoi start', () => {
  let server: Server | null = null;
  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  });

  it('serves /health and the OpenAPI document, and a second start on the same folder names the holder', async () => {
    server = await start();
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const doc = await fetch(`${server.url}/api/v1/openapi.json`);
    expect(((await doc.json()) as { openapi: string }).openapi).toBe('3.1.0');
    const second = await cli(['start', '--data', dataDir, '--port', '0']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('DATA_DIR_LOCKED');
    expect(second.stderr).toContain(`process ${server.child.pid}`);
  });

  it('registers a project, creates tickets and pushes specs through the CLI', async () => {
    const url = server!.url;
    const gitRepo = join(scratch, 'demo-repo');
    mkdirSync(gitRepo);
    execFileSync('git', ['init', '-q', '-b', 'trunk'], { cwd: gitRepo });
    const added = await cli(['project', 'add', gitRepo, '--json'], { OMOIOS_API_URL: url });
    expect(added.code).toBe(0);
    const project = JSON.parse(added.stdout);
    expect(project).toMatchObject({ name: 'demo-repo', repo_url: gitRepo, default_branch: 'trunk' });

    const notRepo = await cli(['project', 'add', scratch], { OMOIOS_API_URL: url });
    expect(notRepo.code).toBe(2);
    expect(notRepo.stderr).toContain('not a git repository');

    const created = await cli(
      ['ticket', 'create', 'Add webhooks', '--project', 'demo-repo', '--mode', 'spec_driven', '--json'],
      {
        OMOIOS_API_URL: url,
      },
    );
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      ticket: { ref: 'TKT-001', title: 'Add webhooks' },
      task: { execution_config: { require_spec_skill: true, selected_skill: 'spec-driven-dev' } },
    });
    const badMode = await cli(['ticket', 'create', 'x', '--project', 'demo-repo', '--mode', 'fast'], {
      OMOIOS_API_URL: url,
    });
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toContain('quick, spec_driven');

    const pushEnv = { OMOIOS_API_URL: url, OMOIOS_PROJECT_ID: project.id };
    const pushed = await cli(['spec', 'sync', 'push', EXAMPLE_ROOT], pushEnv);
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toMatch(/created \d+, updated 0, unchanged 0/);
    const again = await cli(['spec', 'sync', 'push', EXAMPLE_ROOT], pushEnv);
    expect(again.stdout).toMatch(/created 0, updated 0, unchanged \d+/);

    const broken = join(scratch, 'broken');
    mkdirSync(join(broken, '.omoi_os', 'tasks'), { recursive: true });
    writeFileSync(join(broken, '.omoi_os', 'tasks', 'TSK-001.md'), '---\nid: TSK-001\ntitle: x\n---\n');
    const refused = await cli(['spec', 'sync', 'push', broken], pushEnv);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('.omoi_os/tasks/TSK-001.md:');
    expect(refused.stdout).toContain('FIELD_MISSING');
    expect(refused.stderr).toContain('SPEC_INVALID');

    const key = await cli(['key', 'create', '--data', dataDir, '--name', 'ci', '--json'], {
      OMOIOS_API_URL: url,
    });
    expect(key.code).toBe(0);
    expect(JSON.parse(key.stdout).key).toMatch(/^omoi_sk_/);
  });

  it('releases the lock on SIGTERM, and what was written survives the restart', async () => {
    server!.child.kill('SIGTERM');
    expect(await server!.exited).toBe(0);
    expect(existsSync(join(dataDir, 'omoi.lock'))).toBe(false);
    server = await start();
    const { body } = await api(server.url, 'GET', '/tickets');
    expect(body.tickets.map((t: { ref: string }) => t.ref)).toEqual(['TKT-001']);
    const projects = await api(server.url, 'GET', '/projects');
    const next = await api(server.url, 'POST', '/tickets', {
      project_id: projects.body.projects[0].id,
      description: 'After the restart',
      workflow_mode: 'quick',
    });
    expect(next.body.ticket.ref).toBe('TKT-002');
  });

  it('takes over the lock of a server that was killed', async () => {
    server!.child.kill('SIGKILL');
    await server!.exited;
    expect(existsSync(join(dataDir, 'omoi.lock'))).toBe(true);
    server = await start();
    const { body } = await api(server.url, 'GET', '/tickets');
    expect(body.tickets.map((t: { ref: string }) => t.ref).sort()).toEqual(['TKT-001', 'TKT-002']);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});

describe('omoi start configuration', () => {
  it('refuses a bad OMOI_PUBLIC_URL at start with a message and no stack trace', async () => {
    const dir = join(scratch, 'bad-public-url');
    const run = await cli(['start', '--data', dir, '--port', '0', '--no-web'], {
      OMOI_PUBLIC_URL: 'omoi.local:80',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/CONFIG_INVALID: .*OMOI_PUBLIC_URL: must be an http\(s\) URL/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    // Refused before the database was opened.
    expect(existsSync(join(dir, 'omoi.lock'))).toBe(false);
  });

  it('parses its whole environment once: bad variables of the server, worker surface and orchestrator are named together', async () => {
    const dir = join(scratch, 'bad-everything');
    const run = await cli(['start', '--data', dir, '--port', '0', '--no-web'], {
      OMOI_PUBLIC_URL: 'omoi.local:80',
      OMOI_WORKER_PORT: 'seventy',
      OMOI_LEASE_MS: '5',
    });
    expect(run.code).toBe(1);
    const [line] = run.stderr.split('\n').filter((l) => l.includes('CONFIG_INVALID'));
    expect(line).toMatch(/OMOI_PUBLIC_URL: /);
    expect(line).toMatch(/OMOI_WORKER_PORT: /);
    expect(line).toMatch(/OMOI_LEASE_MS: /);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    // Refused before the database was opened, not by the orchestrator after the server started.
    expect(existsSync(join(dir, 'omoi.lock'))).toBe(false);
  });

  it('warns at start when the explicit AGENT_RUNTIME lacks its key, and tickets get a 422', async () => {
    const server = await start({
      dir: join(scratch, 'no-key'),
      env: { AGENT_RUNTIME: 'claude', OMOI_PUBLIC_URL: 'https://omoi.example.com/' },
    });
    try {
      expect(server.stderr()).toMatch(/warning: AGENT_RUNTIME=claude needs ANTHROPIC_API_KEY/);
      const { url } = server;
      const project = await api(url, 'POST', '/projects', { name: 'nokey', repo_url: TEST_REPO });
      const ticket = await api(url, 'POST', '/tickets', {
        project_id: project.body.id,
        title: 'A thing',
        description: 'As a user I want a thing so that it is there.',
        workflow_mode: 'quick',
      });
      expect(ticket.status).toBe(422);
      expect(ticket.body.error.code).toBe('RUNTIME_UNAVAILABLE');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});
