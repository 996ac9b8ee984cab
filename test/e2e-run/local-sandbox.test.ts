// The local provider with real git and real child processes: the worker gets exactly the env
// contract, runs on its work branch, can write only its workspace when bwrap is there, and a
// clone failure is a readable reason.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalProvider } from '../../src/sandbox/local.js';
import type { Sandbox, SandboxLogLine } from '../../src/sandbox/provider.js';
import { createGitRemote } from '../support/git-remote.js';

let root: string;
let remote: string;
let probe: string;

const hasBwrap = (() => {
  try {
    execFileSync('bwrap', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'omoi-local-'));
  // A server running as root runs sandboxes as `nobody`, who must pass through to the workspaces.
  await chmod(root, 0o755);
  remote = createGitRemote(root);
  await mkdir(join(root, 'bin'));
  // Stands in for bin/omoi.js: reports its env, cwd, branch, uid and what it may write.
  probe = join(root, 'bin', 'probe.mjs');
  await writeFile(
    probe,
    `import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
// The local sandbox starts its worker while it still clones: wait for its "ready" as omoi worker does.
if (process.env.OMOI_WORKSPACE_GATE === 'stdin') {
  let line = '';
  for await (const chunk of process.stdin) {
    line += chunk;
    if (line.includes('\\n')) break;
  }
  if (line.trim() !== 'ready') process.exit(3);
}
const tryWrite = (p) => { try { writeFileSync(p, 'x'); return true; } catch { return false; } };
const report = {
  env: process.env, argv: process.argv.slice(2), cwd: process.cwd(), uid: process.getuid(),
  branch: execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { encoding: 'utf8' }).trim(),
  writeWorkspace: tryWrite('probe-output.txt'),
  writeOutside: tryWrite(${JSON.stringify(join(root, 'outside.txt'))}),
};
console.log('REPORT ' + JSON.stringify(report));
if (process.env.PROBE_HANG) { process.on('SIGTERM', () => process.exit(143)); setInterval(() => {}, 1000); }
`,
  );
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    OMOIOS_API_URL: 'http://127.0.0.1:9',
    OMOIOS_API_KEY: 'omoi_wk_x',
    OMOIOS_PROJECT_ID: 'p',
    TASK_ID: 'task-local-1',
    SANDBOX_ID: 's1',
    EXECUTION_MODE: 'exploration',
    REQUIRE_SPEC_SKILL: 'true',
    SELECTED_SKILL: 'spec-driven-dev',
    AGENT_RUNTIME: 'offline',
    REPO_URL: remote,
    BASE_BRANCH: 'main',
    WORK_BRANCH: 'omoi/TKT-001',
    MAX_TURNS: '5',
    SPEC_MAX_ATTEMPTS: '3',
    ...extra,
  };
}

async function drain(sandbox: Sandbox): Promise<SandboxLogLine[]> {
  const lines: SandboxLogLine[] = [];
  for await (const line of sandbox.logs()) lines.push(line);
  return lines;
}

function report(lines: SandboxLogLine[]) {
  const line = lines.find((l) => l.text.startsWith('REPORT '));
  if (!line) throw new Error(`no report in ${JSON.stringify(lines)}`);
  return JSON.parse(line.text.slice(7)) as {
    env: Record<string, string>;
    argv: string[];
    cwd: string;
    uid: number;
    branch: string;
    writeWorkspace: boolean;
    writeOutside: boolean;
  };
}

describe('local sandbox provider', () => {
  it('clones, checks out the work branch and starts the worker with exactly the env contract', async () => {
    const notes: string[] = [];
    const provider = createLocalProvider({
      dataDir: join(root, 'data'),
      omoiBin: probe,
      path: process.env.PATH ?? '',
      log: (m) => notes.push(m),
      // Without bwrap the provider refuses to run agents unless isolation is turned off.
      ...(hasBwrap ? {} : { isolation: 'off' as const }),
    });
    expect(await provider.availability()).toEqual({ available: true });
    const sandbox = await provider.create({ taskId: 'task-local-1', env: env() });
    const lines = await drain(sandbox);
    expect(await sandbox.wait()).toMatchObject({ exitCode: 0 });
    const r = report(lines);
    expect(r.argv).toEqual(['worker']);
    expect(r.branch).toBe('omoi/TKT-001');
    expect(r.writeWorkspace).toBe(true);
    // PWD is set by bwrap to the working folder; anything else beyond the contract would be a leak
    // of the server's environment.
    // In bwrap, also where the API relay and the egress proxy are (unix sockets under /run/omoi).
    const allowed = new Set([
      ...Object.keys(env()),
      'PATH',
      'HOME',
      'TMPDIR',
      'PWD',
      'OMOI_SANDBOX_API_SOCKET',
      'OMOI_SANDBOX_EGRESS_SOCKET',
      'OMOI_WORKSPACE_GATE',
    ]);
    expect(r.env.OMOI_WORKSPACE_GATE).toBe('stdin');
    expect(Object.keys(r.env).filter((k) => !allowed.has(k))).toEqual([]);
    expect(r.env.DATABASE_URL).toBeUndefined();
    expect(r.env.OMOI_API_KEY).toBeUndefined();
    if (hasBwrap) {
      // The task token stays outside: the relay adds it to what the sandbox sends.
      expect(r.env.OMOIOS_API_KEY).toBe('omoi-relay');
      expect(r.env.OMOI_SANDBOX_API_SOCKET).toBe('/run/omoi/api.sock');
      expect(r.cwd).toBe('/workspace');
      expect(r.uid).toBe(1000);
      // The write may land in the sandbox's private /tmp, never in the host's folder.
      expect(existsSync(join(root, 'outside.txt'))).toBe(false);
      expect(lines.some((l) => l.text.includes('in bwrap'))).toBe(true);
    } else {
      expect(notes.some((n) => n.includes('isolation is off'))).toBe(true);
    }
    const workspaceDir = join(root, 'data', 'workspaces', sandbox.id);
    expect(existsSync(workspaceDir)).toBe(true);
    await sandbox.destroy();
    expect(existsSync(workspaceDir)).toBe(false);
  });

  it('reports a clone failure as a readable reason and keeps the workspace when asked', async () => {
    const provider = createLocalProvider({
      dataDir: join(root, 'data2'),
      omoiBin: probe,
      path: process.env.PATH ?? '',
    });
    const sandbox = await provider.create({
      taskId: 'task-local-2',
      env: env({ REPO_URL: join(root, 'no-such-repo.git') }),
      keepOnFailure: true,
    });
    const lines = await drain(sandbox);
    const exit = await sandbox.wait();
    expect(exit.exitCode).toBeNull();
    expect(exit.error).toMatch(/git clone failed: .*no-such-repo/);
    expect(lines.some((l) => l.stream === 'system' && l.text.includes('sandbox failed'))).toBe(true);
    // The worker was started while the clone ran, and never told to go on: it touched nothing.
    expect(lines.some((l) => l.text.startsWith('worker process started'))).toBe(true);
    expect(lines.some((l) => l.text.startsWith('REPORT '))).toBe(false);
    await sandbox.destroy();
    expect(await readdir(join(root, 'data2', 'workspaces'))).toEqual([sandbox.id]);
  });

  it('cancels a running worker', async () => {
    const provider = createLocalProvider({
      dataDir: join(root, 'data3'),
      omoiBin: probe,
      path: process.env.PATH ?? '',
      killGraceMs: 2_000,
    });
    const sandbox = await provider.create({ taskId: 'task-local-3', env: { ...env(), PROBE_HANG: '1' } });
    const lines: SandboxLogLine[] = [];
    const reading = (async () => {
      for await (const line of sandbox.logs()) lines.push(line);
    })();
    const deadline = Date.now() + 60_000;
    while (!lines.some((l) => l.text.startsWith('REPORT ')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await sandbox.cancel();
    const exit = await sandbox.wait();
    expect(exit.error).toBe('cancelled');
    await reading;
    await sandbox.destroy();
    expect(await readdir(join(root, 'data3', 'workspaces'))).toEqual([]);
  });
});
