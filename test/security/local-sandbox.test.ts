// Issue 12's findings 1, 2, 3, 4 and 10 replayed as attacks from inside a real local sandbox: the
// real Omoi server (PGlite in the data folder the sandbox must not see) and its worker surface, the
// real local provider under bubblewrap, and test/security/fixtures/attack.mjs standing in for the
// worker, doing what a hostile agent's commands would. Each attack succeeded on the code before the
// change (`--ro-bind / /`, the host's network, the token and model key in the environment, no limits).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { type RunningServer, startServer } from '../../src/api/main.js';
import {
  createWorkerSurface,
  type RunningWorkerSurface,
  startWorkerSurface,
} from '../../src/api/worker-surface.js';
import { loadServerConfig } from '../../src/core/config.js';
import { createLocalProvider, NO_BWRAP_MESSAGE } from '../../src/sandbox/local.js';
import type { Sandbox, SandboxLogLine } from '../../src/sandbox/provider.js';
import { createGitRemote } from '../support/git-remote.js';

const hasBwrap = (() => {
  try {
    execFileSync('bwrap', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const isRoot = process.getuid?.() === 0;
const ATTACK = join(import.meta.dirname, 'fixtures', 'attack.mjs');

let root: string;
let dataDir: string;
let remote: string;
let attackBin: string;
let server: RunningServer;
let surface: RunningWorkerSurface;
let registry: Server;
let registryPort: number;
let mine: { project: string; ticket: string; task: string };
let other: { task: string };
let token: string;
let adminKey: string;
const modelKey = `sk-sandbox-${randomBytes(12).toString('hex')}`;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: reports and bodies are asserted field by field
  return (await res.json()) as Record<string, any>;
}

async function seed(name: string) {
  const project = await api('POST', '/api/v1/projects', { name, repo_url: remote });
  const ticket = await api('POST', '/api/v1/tickets', {
    project_id: project.id,
    description: 'Spec this',
    workflow_mode: 'spec_driven',
  });
  return {
    project: project.id as string,
    ticket: ticket.ticket.id as string,
    task: ticket.task.id as string,
  };
}

async function drain(sandbox: Sandbox): Promise<SandboxLogLine[]> {
  const lines: SandboxLogLine[] = [];
  for await (const line of sandbox.logs()) lines.push(line);
  return lines;
}

// biome-ignore lint/suspicious/noExplicitAny: reports and bodies are asserted field by field
function reportOf(lines: SandboxLogLine[]): Record<string, any> {
  const line = lines.find((l) => l.text.startsWith('REPORT '));
  if (!line) throw new Error(`no report in ${JSON.stringify(lines.map((l) => l.text)).slice(0, 4000)}`);
  return JSON.parse(line.text.slice(7));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'omoi-security-'));
  await chmod(root, 0o755);
  remote = createGitRemote(root);
  dataDir = join(root, 'data');
  // The attack script sits in a folder of its own, which the sandbox sees read-only; a mode-600
  // file of the server user lies beside it, and another outside anything the sandbox sees.
  await mkdir(join(root, 'bin'));
  attackBin = join(root, 'bin', 'attack.mjs');
  await copyFile(ATTACK, attackBin);
  await writeFile(join(root, 'bin', 'secret-600.txt'), 'server secret beside the installation\n', {
    mode: 0o600,
  });
  await writeFile(join(root, 'secret-600.txt'), 'server secret\n', { mode: 0o600 });

  const config = loadServerConfig({ OMOI_DATA_DIR: dataDir, OMOI_PORT: '0' }, { webDir: null });
  server = await startServer(config);
  surface = await startWorkerSurface(
    createWorkerSurface({
      api: createApp({ services: server.services, config }),
      keys: server.services.keys,
    }),
    { dataDir },
  );
  mine = await seed('attacked');
  other = await seed('other-project');
  token = await server.services.keys.mintWorkerToken({
    taskId: mine.task,
    projectId: mine.project,
    ticketId: mine.ticket,
    ttlMs: 10 * 60_000,
  });
  adminKey = (await server.services.keys.create('admin')).key;
  // Another project's running workspace, as the data folder holds it.
  const otherRepo = join(dataDir, 'workspaces', 'local-otherprj-00000000', 'repo');
  await mkdir(otherRepo, { recursive: true });
  await writeFile(join(otherRepo, 'secret.txt'), 'another project\n');
  // A package registry stand-in on this machine's loopback; the proxy reaches it only because the
  // suite exempts exactly this address and port.
  registry = createServer((_req, res) => res.end('registry-ok'));
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  registryPort = (registry.address() as AddressInfo).port;
}, 120_000);

afterAll(async () => {
  registry?.close();
  await surface?.close();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

function provider(extra: { pids?: number; memoryMb?: number } = {}, log?: (m: string) => void) {
  return createLocalProvider({
    dataDir,
    omoiBin: attackBin,
    path: process.env.PATH ?? '',
    workerApi: surface.socketPath,
    limits: { pids: extra.pids ?? 64, memoryMb: extra.memoryMb ?? 256 },
    allowHosts: ['registry.test', 'evil.test'],
    egressTesting: {
      lookup: async (host) =>
        host.endsWith('.test') ? ['127.0.0.1'] : (await lookup(host, { all: true })).map((a) => a.address),
      exemptAddresses: [`127.0.0.1:${registryPort}`],
    },
    killGraceMs: 1_000,
    ...(log ? { log } : {}),
  });
}

function contract(extra: Record<string, string> = {}): Record<string, string> {
  return {
    OMOIOS_API_URL: server.url,
    OMOIOS_API_KEY: token,
    OMOIOS_PROJECT_ID: mine.project,
    TASK_ID: mine.task,
    SANDBOX_ID: 'security',
    EXECUTION_MODE: 'exploration',
    AGENT_RUNTIME: 'openai',
    OPENAI_API_KEY: modelKey,
    REPO_URL: remote,
    BASE_BRANCH: 'main',
    WORK_BRANCH: 'omoi/TKT-ATTACK',
    PROBE_API_PORT: String(server.port),
    PROBE_HOST_PORT: String(registryPort),
    PROBE_OTHER_TASK: other.task,
    // Even an operator key that leaked into the sandbox is dropped by the relay.
    PROBE_ADMIN_KEY: adminKey,
    PROBE_DATA_DIR: dataDir,
    PROBE_OTHER_WORKSPACE_FILE: join(dataDir, 'workspaces', 'local-otherprj-00000000', 'repo', 'secret.txt'),
    PROBE_SECRET_HIDDEN: join(root, 'secret-600.txt'),
    PROBE_SECRET_VISIBLE: join(root, 'bin', 'secret-600.txt'),
    PROBE_REMOTE: remote,
    PROBE_REGISTRY_PORT: String(registryPort),
    ...extra,
  };
}

describe.skipIf(!hasBwrap)('attacks from inside a local sandbox', () => {
  // biome-ignore lint/suspicious/noExplicitAny: reports and bodies are asserted field by field
  let r: Record<string, any>;
  let lines: SandboxLogLine[];
  let hostOwner: number;

  beforeAll(async () => {
    const sandbox = await provider().create({ taskId: mine.task, env: contract(), network: 'registries' });
    lines = await drain(sandbox);
    const exit = await sandbox.wait();
    r = reportOf(lines);
    expect(exit).toMatchObject({ exitCode: 0 });
    // Who the sandbox was on the host: the owner of the file it wrote into its workspace.
    hostOwner = (await stat(join(dataDir, 'workspaces', sandbox.id, 'repo', 'probe-output.txt'))).uid;
    await sandbox.destroy();
  }, 180_000);

  it('finding 1: cannot reach the operator API on the host loopback, nor mint a key through it', () => {
    expect(r.apiTcp).toMatchObject({ ok: false });
    expect(r.apiMintKey).toMatchObject({ ok: false });
    // The sandbox's own API is the worker surface, through the relay: its own task only.
    expect(r.relayOwnTask).toMatchObject({ ok: true, value: { status: 200 } });
    expect(r.relayOtherTask.value.status).toBe(403);
    expect(r.relayProjects.value.status).toBe(403);
    expect(r.relayMintKey.value.status).toBe(403);
  });

  it('finding 10: other services on the host loopback (PostgreSQL, any port) are unreachable', () => {
    expect(r.postgres).toMatchObject({ ok: false });
    expect(r.hostPort).toMatchObject({ ok: false });
  });

  it('finding 4: neither the task token nor the model key is in any process environment or command line', () => {
    expect(r.secretsInProc).toEqual({ ok: true, value: [] });
    expect(r.env).not.toContain('OMOI_API_KEY');
    // Its own PID namespace: the sandbox's few processes, not the machine's.
    expect(r.pidsVisible.value).toBeLessThan(20);
    const all = lines.map((l) => l.text).join('\n');
    expect(all).not.toContain(token);
    expect(all).not.toContain(modelKey);
  });

  it('finding 3: the data folder, other workspaces, mode-600 files, /root and /home are not there', () => {
    expect(r.dataDir).toMatchObject({ ok: false });
    expect(r.pgdata).toMatchObject({ ok: false });
    expect(r.otherWorkspace).toMatchObject({ ok: false });
    expect(r.secret600Hidden).toMatchObject({ ok: false, error: 'ENOENT' });
    expect(r.rootHome).toMatchObject({ ok: false, error: 'ENOENT' });
    expect(r.etcShadow).toMatchObject({ ok: false, error: 'ENOENT' });
    expect(r.homeDirs).toEqual({ ok: true, value: ['sandbox'] });
    // A mode-600 file in a folder the sandbox does see stays closed: uid 1000 is not the owner.
    if (isRoot) expect(r.secret600Visible).toMatchObject({ ok: false, error: 'EACCES' });
    expect(r.workspaceWrite).toEqual({ ok: true, value: 'written' });
  });

  it('finding 3: the uid is 1000 inside and never root outside', () => {
    expect(r.uid.value).toBe(1000);
    expect(hostOwner).not.toBe(0);
    expect(hostOwner).toBe(isRoot ? 65534 : process.getuid?.());
  });

  it('finding 2: the git remote is not visible, so no hook or config can be written into it', () => {
    expect(r.remoteVisible).toEqual({ ok: true, value: false });
    expect(r.remoteHook).toMatchObject({ ok: false });
    expect(r.remoteConfig).toMatchObject({ ok: false });
    expect(existsSync(join(remote, 'hooks', 'post-receive'))).toBe(false);
  });

  it('finding 10: hundreds of processes are capped, and memory past the cap kills the allocation', () => {
    expect(r.fork.ok).toBe(true);
    expect(r.fork.value.started).toBeLessThan(64);
    expect(r.fork.value.failed).toBeGreaterThan(200);
    expect(r.memory.ok).toBe(true);
    expect(r.memory.value.status).not.toBe(0);
    expect(r.memory.value.stdout).not.toContain('allocated');
  });

  it('egress: a registry is reachable, loopback and private addresses never, even by name', () => {
    expect(r.egressSocket).toBe(true);
    expect(r.egressRegistry).toEqual({ ok: true, value: { status: 200, body: 'registry-ok' } });
    expect(r.egressLoopback.value.status).toBe(403);
    expect(r.egressLoopbackByName.value.status).toBe(403);
    expect(r.egressPrivate.value.status).toBe(403);
    expect(r.egressMetadata.value.status).toBe(403);
    expect(r.egressNotRegistry.value.status).toBe(403);
  });
});

describe.skipIf(!hasBwrap)('limits and policies of a local sandbox', () => {
  it('finding 10: the wall-clock limit kills the sandbox; network "none" offers no way out', async () => {
    const started = Date.now();
    const sandbox = await provider().create({
      taskId: mine.task,
      env: contract({ PROBE_HANG: '1' }),
      network: 'none',
      resources: { timeoutMs: 3_000 },
    });
    const lines = await drain(sandbox);
    const exit = await sandbox.wait();
    expect(exit.error).toMatch(/wall-clock limit of 3000 ms/);
    expect(Date.now() - started).toBeLessThan(30_000);
    const r = reportOf(lines);
    expect(r).toMatchObject({ hanging: true, egressSocket: false, proxyEnv: null });
    await sandbox.destroy();
  }, 60_000);
});

describe.skipIf(!hasBwrap)('the real omoi worker in a local sandbox', () => {
  it('reaches the worker surface through its forwarder and the relay, holding no token', async () => {
    // The CLI from source, bundled beside the repository's package.json so that it finds
    // node_modules and src/skills exactly as dist/ does.
    const repoRoot = join(import.meta.dirname, '..', '..');
    const bundleDir = join(repoRoot, 'test-results', `security-${randomBytes(4).toString('hex')}`);
    const workerBin = join(bundleDir, 'main.mjs');
    const { build } = await import('esbuild');
    await build({
      entryPoints: [join(repoRoot, 'src/cli/main.ts')],
      outfile: workerBin,
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'error',
    });
    try {
      const fresh = await seed('real-worker');
      const freshToken = await server.services.keys.mintWorkerToken({
        taskId: fresh.task,
        projectId: fresh.project,
        ticketId: fresh.ticket,
        ttlMs: 10 * 60_000,
      });
      const real = createLocalProvider({
        dataDir,
        omoiBin: workerBin,
        path: process.env.PATH ?? '',
        workerApi: surface.socketPath,
      });
      const sandbox = await real.create({
        taskId: fresh.task,
        env: {
          OMOIOS_API_URL: server.url,
          OMOIOS_API_KEY: freshToken,
          OMOIOS_PROJECT_ID: fresh.project,
          TASK_ID: fresh.task,
          SANDBOX_ID: 'security-real',
          EXECUTION_MODE: 'exploration',
          REQUIRE_SPEC_SKILL: 'true',
          SELECTED_SKILL: 'spec-driven-dev',
          AGENT_RUNTIME: 'offline',
          REPO_URL: remote,
          BASE_BRANCH: 'main',
          WORK_BRANCH: 'omoi/TKT-REAL',
          MAX_TURNS: '5',
          SPEC_MAX_ATTEMPTS: '2',
        },
      });
      const lines = await drain(sandbox);
      await sandbox.wait();
      await sandbox.destroy();
      const text = lines.map((l) => l.text).join('\n');
      expect(text).not.toContain(freshToken);
      // What the worker posted arrived at the server, through 127.0.0.1 of its own network
      // namespace, the relay socket and the worker surface.
      const events = await server.services.events.list({ task_id: fresh.task }, 0, 500);
      const types = events.map((e) => e.type);
      expect(types, text.slice(0, 3000)).toContain('worker.started');
      expect(types).toContain('skill.injected');
    } finally {
      await rm(bundleDir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('without bubblewrap', () => {
  it('finding 10: agents do not run unless OMOI_SANDBOX_ISOLATION=off, which every run then says', async () => {
    // A PATH with git but no bwrap.
    const bin = join(root, 'path-without-bwrap');
    await mkdir(bin, { recursive: true });
    const gitPath = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    await writeFile(join(bin, 'git'), `#!/bin/sh\nexec ${gitPath} "$@"\n`, { mode: 0o755 });
    const notes: string[] = [];
    const strict = createLocalProvider({ dataDir, omoiBin: attackBin, path: bin, log: (m) => notes.push(m) });
    expect(await strict.availability()).toEqual({ available: false, reason: NO_BWRAP_MESSAGE });
    await expect(strict.create({ taskId: mine.task, env: contract() })).rejects.toThrow(
      /bubblewrap.*apt-get install bubblewrap.*OMOI_SANDBOX_ISOLATION=off/,
    );
    expect(notes.join('\n')).toContain('refuses to run');

    const hello = join(root, 'bin', 'hello.mjs');
    await writeFile(hello, "console.log('REPORT ' + JSON.stringify({ uid: process.getuid() }));\n");
    const offNotes: string[] = [];
    const off = createLocalProvider({
      dataDir,
      omoiBin: hello,
      path: bin,
      isolation: 'off',
      log: (m) => offNotes.push(m),
    });
    expect(offNotes.join('\n')).toContain('isolation is off');
    const sandbox = await off.create({ taskId: mine.task, env: contract() });
    const lines = await drain(sandbox);
    expect((await sandbox.wait()).exitCode).toBe(0);
    expect(lines.some((l) => l.stream === 'system' && l.text.includes('isolation is off'))).toBe(true);
    await sandbox.destroy();
  }, 60_000);
});
