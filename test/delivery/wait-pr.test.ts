// `omoi ticket create --wait` on a project with auto_approve and pull request settings, end to end: a
// real `omoi start` (orchestrator, local sandbox, the scripted runtime), a bare repository as the
// remote, the fake forge for GitHub. The command follows the spec run, the approval, every task and
// the integration run, and ends with the pull request's URL; the forge got exactly one.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRemote, ensureBuilt, type OmoiServer, ROOT, startOmoi } from '../e2e-run/support/harness.js';
import { dagSpec } from '../exec/support/dag-spec.js';
import { type FakeForge, startFakeForge } from '../support/fake-forge.js';

const TOKEN = 'ghp_waitthroughtoken0123456789';
let root: string;
let server: OmoiServer;
let forge: FakeForge;

beforeAll(async () => {
  ensureBuilt();
  root = await mkdtemp(join(tmpdir(), 'omoi-wait-pr-'));
  // The scripted runtime's script is read inside the sandbox, whose user is not this one.
  await chmod(root, 0o755);
  const script = join(root, 'script.json');
  const spec = dagSpec({ feature: 'WPR', tasks: { A: [], B: ['A'] } });
  await writeFile(
    script,
    JSON.stringify({
      turns: [
        { mode: 'exploration', write: Object.fromEntries(spec.map((f) => [f.path, String(f.content)])) },
        { mode: 'implementation', offline: true },
      ],
    }),
  );
  await chmod(script, 0o644);
  forge = await startFakeForge({ token: TOKEN });
  server = await startOmoi({
    dataDir: join(root, 'data'),
    env: { AGENT_RUNTIME: 'scripted', OMOI_TEST_RUNTIME_SCRIPT: script, OMOI_LEASE_MS: '5000' },
  });
}, 600_000);

afterAll(async () => {
  await server?.stop();
  await forge?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

function cli(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'omoi.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: root,
      env: { PATH: process.env.PATH, HOME: root, OMOIOS_API_URL: server.url },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

it('create --wait follows auto-approval, the tasks and the integration run to the pull request URL', async () => {
  const remote = await createRemote(root, 'app.git');
  await server.api('POST', '/projects', {
    name: 'shop',
    repo_url: remote,
    credential: { kind: 'https_token', secret: TOKEN },
    settings: {
      auto_approve: true,
      pull_request: { provider: 'github', repository: 'acme/shop', api_url: forge.githubUrl },
    },
  });
  const run = await cli(['ticket', 'create', 'Build the WPR pair', '--project', 'shop', '--wait']);
  expect(run.code, run.stdout + run.stderr + server.output.join('')).toBe(0);
  expect(run.stdout).toMatch(/approved \(auto_approve\): 3 tasks queued/);
  expect(run.stdout).toMatch(/TSK-WPR-001 {2}completed/);
  expect(run.stdout).toMatch(/integration {2}completed/);
  expect(forge.pulls).toHaveLength(1);
  const url = `${forge.githubUrl.replace('/github', '')}/acme/shop/pull/1`;
  expect(run.stdout).toContain(`pull request opened: ${url}`);
  expect(run.stdout).toMatch(new RegExp(`^ {2}pr {3}${url.replace(/[/.]/g, '\\$&')}$`, 'm'));
  expect(forge.pulls[0]).toMatchObject({
    head: 'omoi/TKT-001-feature',
    base: 'main',
    title: 'TKT-001: Build the WPR pair',
  });
  // The token went to the forge and nowhere the server prints.
  expect(server.output.join('')).not.toContain(TOKEN);
  expect(run.stdout + run.stderr).not.toContain(TOKEN);
}, 600_000);
