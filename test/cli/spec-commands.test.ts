// `omoi spec show <view>|trace|next-id|fix|import`, run as the built binary in temp folders:
// text and --json, exit 0 ok / 1 invalid / 2 usage with a usage line.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentStyleTree, withTrueDefects } from '../spec-format/agent-style.js';
import { KIRO, OPENSPEC, SPECKIT } from '../spec-format/import-fixtures.js';
import { type Tree, validTree } from '../spec-format/tree.js';

const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'bin', 'omoi.js');
const example = join(repo, 'examples', 'spec-driven');
const scratch = mkdtempSync(join(tmpdir(), 'omoi-cli-spec-cmd-'));

function runCli(
  args: string[],
  cwd = scratch,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? -1 : 0;
        resolve({ exitCode: code, stdout, stderr });
      },
    );
  });
}

let counter = 0;
function writeTree(tree: Tree): string {
  const dir = join(scratch, `tree-${++counter}`);
  mkdirSync(dir, { recursive: true });
  for (const [path, content] of Object.entries(tree)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

beforeAll(() => {
  execFileSync(process.execPath, [join(repo, 'scripts', 'ensure-built.js')], { cwd: repo, stdio: 'inherit' });
}, 600_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('omoi spec validate on agent-style trees', () => {
  it('no error on the false-alarm patterns; skipped templates are listed', async () => {
    const result = await runCli(['spec', 'validate', writeTree(agentStyleTree())]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toMatch(/: error /);
    expect(result.stdout).toContain('.omoi_os/templates/ticket.md: skipped (a template)\n');
    const json = JSON.parse(
      (await runCli(['spec', 'validate', writeTree(agentStyleTree()), '--json'])).stdout,
    );
    expect(json.skipped).toEqual(['.omoi_os/tasks/TASK_TEMPLATE.md', '.omoi_os/templates/ticket.md']);
  });

  it('the true defects: exit 1 with each code', async () => {
    const result = await runCli(['spec', 'validate', writeTree(withTrueDefects())]);
    expect(result.exitCode).toBe(1);
    for (const code of ['ID_DUPLICATE', 'FRONTMATTER_MISSING', 'REF_MISSING', 'ENUM_INVALID'])
      expect(result.stdout).toContain(`error ${code}`);
  });
});

describe('omoi spec show <view>', () => {
  it('each view prints text and --json; exit 0 on a valid tree', async () => {
    for (const view of [
      'all',
      'tickets',
      'tasks',
      'requirements',
      'designs',
      'graph',
      'traceability',
      'ready',
    ]) {
      const text = await runCli(['spec', 'show', view, example]);
      expect(text.exitCode, view).toBe(0);
      expect(text.stdout.length, view).toBeGreaterThan(10);
      const json = await runCli(['spec', 'show', view, example, '--json']);
      expect(json.exitCode, view).toBe(0);
      expect(JSON.parse(json.stdout).valid, view).toBe(true);
    }
  });

  it('the views say what the tree holds', async () => {
    const tasks = JSON.parse((await runCli(['spec', 'show', 'tasks', example, '--json'])).stdout);
    expect(tasks.tasks.map((t: { id: string }) => t.id)[0]).toBe('TSK-001');
    const ready = await runCli(['spec', 'show', 'ready', example]);
    expect(
      ready.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['TSK-003', 'TSK-005', 'TSK-006']);
    const graph = await runCli(['spec', 'show', 'graph', example]);
    expect(graph.stdout).toContain('Tasks (depends_on):\n');
    expect(graph.stdout).toMatch(/└─ TSK-004 {2}<- TSK-002, TSK-003\n/);
    const requirements = JSON.parse(
      (await runCli(['spec', 'show', 'requirements', example, '--json'])).stdout,
    );
    expect(requirements.requirements[0].items).toHaveLength(5);
    // Top-level depends_on is read: only the first task of the chain is ready.
    const agent = await runCli(['spec', 'show', 'ready', writeTree(agentStyleTree()), '--json']);
    expect(JSON.parse(agent.stdout).ready.map((t: { id: string }) => t.id)).toEqual(['TSK-007']);
  });

  it('DIR alone still works; an unknown view with a DIR is a usage error (exit 2)', async () => {
    const dir = writeTree(validTree());
    expect((await runCli(['spec', 'show', dir])).stdout).toContain('Ready: ');
    const bad = await runCli(['spec', 'show', 'everything', dir]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("unknown view 'everything'");
    expect(bad.stderr).toMatch(/usage: omoi spec show \[all\|tickets/);
  });

  it('a folder with a Kiro layout and no .omoi_os/: the message names the import command', async () => {
    const dir = writeTree(KIRO);
    const show = await runCli(['spec', 'show', 'tasks', dir]);
    expect(show.exitCode).toBe(1);
    expect(show.stderr).toContain(`omoi spec import kiro ${dir}`);
    const validate = await runCli(['spec', 'validate', dir]);
    expect(validate.exitCode).toBe(1);
    expect(validate.stdout).toContain('Kiro layout in .kiro/specs/');
    expect(validate.stdout).toContain(`omoi spec import kiro ${dir}`);
  });
});

describe('omoi spec trace', () => {
  it('requirement -> design -> ticket -> task, with what is not covered', async () => {
    const text = await runCli(['spec', 'trace', example]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(
      /^REQ-WEBHOOKS-SUB-001 {2}.+\n {4}design {2}DESIGN-WEBHOOKS-001\n {4}ticket {2}TKT-/m,
    );
    const tree = validTree();
    const dir = writeTree(tree);
    const json = JSON.parse((await runCli(['spec', 'trace', dir, '--json'])).stdout);
    expect(json.valid).toBe(true);
    const login1 = json.requirements.find((r: { id: string }) => r.id === 'REQ-AUTH-LOGIN-001');
    expect(login1.tasks).toEqual(['TSK-001', 'TSK-002', 'TSK-003']);
    expect(json.uncovered.task).toEqual(expect.arrayContaining(['REQ-AUTH-LOGIN-002']));
    const human = await runCli(['spec', 'trace', dir]);
    expect(human.stdout).toMatch(/No task: .*REQ-AUTH-LOGIN-002/);
  });

  it('exit 1 on an invalid tree, 2 on an extra argument', async () => {
    expect((await runCli(['spec', 'trace', writeTree(withTrueDefects())])).exitCode).toBe(1);
    const extra = await runCli(['spec', 'trace', example, 'more']);
    expect(extra.exitCode).toBe(2);
    expect(extra.stderr).toContain('usage: omoi spec trace');
  });
});

describe('omoi spec next-id', () => {
  it('numbers after every id of the shape, per feature when asked', async () => {
    const dir = writeTree(withTrueDefects());
    expect((await runCli(['spec', 'next-id', 'task', dir])).stdout).toBe('TSK-016\n');
    expect((await runCli(['spec', 'next-id', 'ticket', dir])).stdout).toBe('TKT-010\n');
    expect((await runCli(['spec', 'next-id', 'task', dir, '--feature', 'notify'])).stdout).toBe(
      'TSK-NOTIFY-001\n',
    );
    const item = await runCli([
      'spec',
      'next-id',
      'requirement',
      dir,
      '--feature',
      'create-repo',
      '--area',
      'func',
      '--json',
    ]);
    expect(JSON.parse(item.stdout)).toEqual({ id: 'REQ-CREATE-REPO-FUNC-004', kind: 'requirement' });
    expect((await runCli(['spec', 'next-id', 'design', dir, '--feature', 'Create Repo'])).stdout).toBe(
      'DESIGN-CREATE-REPO-002\n',
    );
  });

  it('usage errors: an unknown kind, a kind that needs --feature', async () => {
    const unknown = await runCli(['spec', 'next-id', 'epic', example]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("unknown kind 'epic'");
    const noFeature = await runCli(['spec', 'next-id', 'prd', example]);
    expect(noFeature.exitCode).toBe(2);
    expect(noFeature.stderr).toMatch(/--feature[\s\S]*usage: omoi spec next-id/);
  });
});

describe('omoi spec fix', () => {
  it('--dry-run lists the fixes and changes nothing; then fix applies them', async () => {
    const tree = agentStyleTree();
    // A file name that fits no id, and a legacy design.
    tree['.omoi_os/tickets/repo.md'] = tree['.omoi_os/tickets/TKT-007-repo-service.md']!;
    delete tree['.omoi_os/tickets/TKT-007-repo-service.md'];
    tree['.omoi_os/designs/legacy.md'] =
      '# Legacy design\n\n**Feature**: create-repo\n**Status**: Review\n**Created**: 2026-01-03\n\nCovers REQ-CREATE-REPO-FUNC-003.\n\n## Architecture\n\nOne service.\n';
    const dir = writeTree(tree);
    const before = readFileSync(join(dir, '.omoi_os/tasks/TSK-008-repo-routes.md'), 'utf8');
    const dry = await runCli(['spec', 'fix', dir, '--dry-run', '--json']);
    const plan = JSON.parse(dry.stdout);
    expect(plan.dryRun).toBe(true);
    expect(plan.fixes.map((f: { kind: string; path: string }) => `${f.kind} ${f.path}`)).toEqual([
      'frontmatter .omoi_os/designs/legacy.md',
      'nest .omoi_os/tasks/TSK-007-repo-service.md',
      'nest .omoi_os/tasks/TSK-008-repo-routes.md',
      'nest .omoi_os/tasks/TSK-015-template-service.md',
      'nest .omoi_os/tickets/TKT-008-template-service.md',
      'blocks .omoi_os/tasks/TSK-008-repo-routes.md',
      'blocks .omoi_os/tickets/repo.md',
      'rename .omoi_os/tickets/repo.md',
    ]);
    expect(readFileSync(join(dir, '.omoi_os/tasks/TSK-008-repo-routes.md'), 'utf8')).toBe(before);

    const fixed = await runCli(['spec', 'fix', dir]);
    expect(fixed.exitCode).toBe(0);
    expect(fixed.stdout).toContain(
      '.omoi_os/tickets/repo.md: fixed: renamed to .omoi_os/tickets/TKT-007.md\n',
    );
    expect(fixed.stdout).toMatch(/\d+ files, 0 errors, 0 warnings\n$/);
    expect(existsSync(join(dir, '.omoi_os/tickets/TKT-007.md'))).toBe(true);
    const routes = readFileSync(join(dir, '.omoi_os/tasks/TSK-008-repo-routes.md'), 'utf8');
    expect(routes).toContain('dependencies:\n  depends_on: [TSK-007]\n  blocks: [TSK-015]\n');
    expect(routes).toContain('estimate: 4h\n');
    const legacy = readFileSync(join(dir, '.omoi_os/designs/legacy.md'), 'utf8');
    expect(legacy).toMatch(
      /^---\nid: DESIGN-CREATE-REPO-002\ntitle: Legacy design\nfeature: create-repo\nstatus: review\n/,
    );
    expect(legacy).toContain('requirements: [REQ-CREATE-REPO-FUNC-003]');
    expect(legacy).not.toContain('**Feature**');
    // Nothing left to do.
    expect((await runCli(['spec', 'fix', dir])).stdout).toMatch(/^nothing to fix\n/);
  });
});

describe('omoi spec import', () => {
  it.each([
    ['kiro', KIRO, 4, 5],
    ['openspec', OPENSPEC, 4, 2],
    ['speckit', SPECKIT, 3, 4],
  ] as const)(
    '%s: writes a tree that validates (text and --json)',
    async (format, tree, requirements, tasks) => {
      const source = writeTree(tree);
      const into = join(scratch, `into-${++counter}`);
      mkdirSync(into);
      const json = await runCli(['spec', 'import', format, source, '--into', into, '--json']);
      expect(json.exitCode, json.stderr).toBe(0);
      const result = JSON.parse(json.stdout);
      expect(result).toMatchObject({ format, valid: true, counts: { requirements, tasks } });
      expect((await runCli(['spec', 'validate', into])).exitCode).toBe(0);
      // Text form, into the current folder.
      const cwd = join(scratch, `cwd-${++counter}`);
      mkdirSync(cwd);
      const text = await runCli(['spec', 'import', format, source], cwd);
      expect(text.exitCode).toBe(0);
      expect(text.stdout).toMatch(
        new RegExp(`^imported \\d+ ${format} features into .+: ${requirements} requirements`),
      );
      expect(text.stdout).toMatch(/\d+ files, 0 errors, \d+ warnings\n$/);
      // A second import over the same files changes nothing and still succeeds; other content is refused.
      expect((await runCli(['spec', 'import', format, source], cwd)).exitCode).toBe(0);
    },
  );

  it('refuses to overwrite a file with other content (exit 1, nothing written)', async () => {
    const source = writeTree(KIRO);
    const into = writeTree({ '.omoi_os/requirements/user-auth.md': 'mine\n' });
    const result = await runCli(['spec', 'import', 'kiro', source, '--into', into]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('.omoi_os/requirements/user-auth.md');
    expect(existsSync(join(into, '.omoi_os/tasks'))).toBe(false);
  });

  it('usage errors (exit 2): an unknown format, a source of no known layout, a missing folder', async () => {
    const unknown = await runCli(['spec', 'import', 'jira', scratch]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(
      /unknown format 'jira'[\s\S]*usage: omoi spec import <kiro\|openspec\|speckit>/,
    );
    const plain = writeTree({ 'README.md': '# hi\n' });
    for (const format of ['kiro', 'openspec', 'speckit']) {
      const wrong = await runCli(['spec', 'import', format, plain]);
      expect(wrong.exitCode, format).toBe(2);
      expect(wrong.stderr).toContain(`is not a ${format} source`);
      expect(wrong.stderr).toContain('usage: omoi spec import');
    }
    const missing = await runCli(['spec', 'import', 'kiro', join(scratch, 'nope')]);
    expect(missing.exitCode).toBe(2);
    expect((await runCli(['spec', 'import', 'kiro'])).exitCode).toBe(2);
  });
});
