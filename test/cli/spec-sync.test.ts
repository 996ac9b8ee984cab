// `omoi spec sync diff` against the real server (`omoi start`, a real data folder): it says what a
// push would create, update and leave unchanged, and stores nothing (the server's dry_run).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/wait.js';

const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'bin', 'omoi.js');
const scratch = mkdtempSync(join(tmpdir(), 'omoi-cli-sync-'));

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME ?? scratch, OMOI_ORCHESTRATOR: 'false', ...extra };
}

function cli(args: string[], extra: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: env(extra), cwd: scratch });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

let server: ChildProcess | null = null;
let url = '';

beforeAll(async () => {
  execFileSync(process.execPath, [join(repo, 'scripts', 'ensure-built.js')], { cwd: repo, stdio: 'inherit' });
  const child = spawn(
    process.execPath,
    [bin, 'start', '--data', join(scratch, 'data'), '--port', '0', '--json', '--no-web'],
    { env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server = child;
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const line = await eventually(
    () => {
      if (child.exitCode !== null) throw new Error(`omoi start exited ${child.exitCode}: ${stderr}`);
      return stdout.split('\n').find((l) => l.startsWith('{'));
    },
    'omoi start to listen',
    90_000,
  );
  url = JSON.parse(line).url;
}, 600_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.on('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(scratch, { recursive: true, force: true });
});

describe('omoi spec sync diff', () => {
  it('lists what a push would do, stores nothing, and follows the pushes', async () => {
    const tree = join(scratch, 'tree');
    cpSync(join(repo, 'examples', 'spec-driven'), tree, { recursive: true });
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: tree });
    const added = await cli(['project', 'add', tree, '--json'], { OMOIOS_API_URL: url });
    expect(added.code, added.stderr).toBe(0);
    const pushEnv = { OMOIOS_API_URL: url, OMOIOS_PROJECT_ID: JSON.parse(added.stdout).id };

    const first = await cli(['spec', 'sync', 'diff', tree], pushEnv);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^create {4}TSK-001 +\.omoi_os\/tasks\/TSK-001\.md$/m);
    const created = Number(
      /a push would create (\d+), update 0, leave 0 unchanged\n$/.exec(first.stdout)?.[1],
    );
    expect(created).toBeGreaterThan(10);
    // Nothing was stored: the same diff again, and the server lists no document.
    expect((await cli(['spec', 'sync', 'diff', tree], pushEnv)).stdout).toBe(first.stdout);
    const listed = await fetch(`${url}/api/v1/projects/${pushEnv.OMOIOS_PROJECT_ID}/specs`);
    expect(((await listed.json()) as { documents: unknown[] }).documents).toEqual([]);

    expect((await cli(['spec', 'sync', 'push', tree], pushEnv)).code).toBe(0);
    const task = join(tree, '.omoi_os', 'tasks', 'TSK-002.md');
    writeFileSync(task, `${readFileSync(task, 'utf8')}\nOne more line.\n`);
    const json = await cli(['spec', 'sync', 'diff', tree, '--json'], pushEnv);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result).toMatchObject({ created: 0, updated: 1, unchanged: created - 1 });
    expect(result.documents.filter((d: { action: string }) => d.action === 'updated')).toEqual([
      { spec_id: 'TSK-002', kind: 'task', path: '.omoi_os/tasks/TSK-002.md', action: 'updated' },
    ]);
    const text = await cli(['spec', 'sync', 'diff', tree], pushEnv);
    expect(text.stdout).toMatch(/^update {4}TSK-002 +\.omoi_os\/tasks\/TSK-002\.md$/m);
    expect(text.stdout).toMatch(/^unchanged TSK-001 /m);
  });

  it('an invalid tree is refused with the report (exit 1); no project is a usage error (exit 2)', async () => {
    const broken = join(scratch, 'broken');
    cpSync(join(repo, 'examples', 'spec-driven'), broken, { recursive: true });
    writeFileSync(join(broken, '.omoi_os', 'tasks', 'TSK-001.md'), '---\nid: TSK-001\ntitle: x\n---\n');
    const projects = (await (await fetch(`${url}/api/v1/projects`)).json()) as { projects: { id: string }[] };
    const refused = await cli(['spec', 'sync', 'diff', broken], {
      OMOIOS_API_URL: url,
      OMOIOS_PROJECT_ID: projects.projects[0]!.id,
    });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('FIELD_MISSING');
    expect(refused.stderr).toContain('SPEC_INVALID');
    const usage = await cli(['spec', 'sync', 'diff', broken], { OMOIOS_API_URL: url });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: omoi spec sync diff');
  });
});
