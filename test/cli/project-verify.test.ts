// `omoi project add --verify "<cmd>"`: the built binary against a real `omoi start` (no
// orchestrator) stores the command as the project's settings.verify_command; an empty one is a
// usage error (exit 2) and registers nothing.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBareRepo, ROOT, type RunningOmoi, startOmoi } from '../e2e/support/omoi-server.js';
import { ensureBuilt } from '../e2e-run/support/harness.js';

let omoi: RunningOmoi;

function cli(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'omoi.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: omoi.tmp,
      env: { PATH: process.env.PATH, HOME: omoi.tmp, OMOIOS_API_URL: omoi.url },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  ensureBuilt();
  omoi = await startOmoi({ OMOI_ORCHESTRATOR: 'false' });
}, 600_000);
afterAll(async () => {
  await omoi?.stop();
});

it('stores --verify as settings.verify_command and refuses an empty one', async () => {
  const empty = await cli(['project', 'add', createBareRepo(omoi.tmp, 'empty.git'), '--verify', ' ']);
  expect(empty.code).toBe(2);
  expect(empty.stderr).toMatch(/--verify needs a command/);
  expect(empty.stderr).toMatch(/omoi project add <path-or-git-url>/);

  const added = await cli([
    'project',
    'add',
    createBareRepo(omoi.tmp, 'app.git'),
    '--name',
    'app',
    '--verify',
    'npm test -- --run',
  ]);
  expect(added.code, added.stderr).toBe(0);
  expect(added.stdout).toContain('verify npm test -- --run');
  const listed = (await (await fetch(`${omoi.url}/api/v1/projects`)).json()) as {
    projects: { name: string; settings: { verify_command?: string } }[];
  };
  expect(listed.projects.map((p) => [p.name, p.settings.verify_command])).toEqual([
    ['app', 'npm test -- --run'],
  ]);
}, 120_000);
