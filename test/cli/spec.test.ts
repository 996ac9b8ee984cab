// `omoi spec validate|show`, run as the built binary (`node bin/omoi.js`) in a temp folder.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edit, lineOf, type Tree, validTree } from '../spec-format/tree.js';

const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'bin', 'omoi.js');
const scratch = mkdtempSync(join(tmpdir(), 'omoi-cli-spec-'));

interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], cwd = scratch, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000 },
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
  for (const [path, content] of Object.entries(tree)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

beforeAll(() => {
  // Builds only when dist/ is missing or older than the sources (CI has just built).
  execFileSync(process.execPath, [join(repo, 'scripts', 'ensure-built.js')], { cwd: repo, stdio: 'inherit' });
}, 600_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('omoi spec validate', () => {
  it('a valid tree in the current folder: exit 0 and the summary line', async () => {
    const dir = writeTree(validTree());
    const result = await runCli(['spec', 'validate'], dir);
    expect(result).toEqual({
      exitCode: 0,
      stdout: '.omoi_os/tasks/task-template.md: skipped (a template)\n8 files, 0 errors, 0 warnings\n',
      stderr: '',
    });
  });

  it('the example tree of the repository is valid', async () => {
    const result = await runCli(['spec', 'validate', join(repo, 'examples', 'spec-driven'), '--strict']);
    expect(result.stdout).toBe('18 files, 0 errors, 0 warnings\n');
    expect(result.exitCode).toBe(0);
  });

  it('an invalid tree: exit 1, one `path:line: level CODE message` line per issue, then the summary', async () => {
    let tree = edit(validTree(), '.omoi_os/tasks/TSK-002.md', 'status: pending', 'status: doing');
    tree = edit(tree, '.omoi_os/tasks/TSK-001.md', 'estimate: S', 'estimate: S\nowner: bob');
    const dir = writeTree(tree);
    const result = await runCli(['spec', 'validate', dir]);
    expect(result.exitCode).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      `.omoi_os/tasks/TSK-001.md:${lineOf(tree['.omoi_os/tasks/TSK-001.md']!, 'owner:')}: warning FIELD_UNKNOWN unknown field 'owner' for a task`,
      expect.stringMatching(
        new RegExp(
          `^\\.omoi_os/tasks/TSK-002\\.md:${lineOf(tree['.omoi_os/tasks/TSK-002.md']!, 'status:')}: error ENUM_INVALID 'status' is 'doing'; allowed values: pending, in_progress, review, done, blocked$`,
        ),
      ),
      '.omoi_os/tasks/task-template.md: skipped (a template)',
      '8 files, 1 errors, 1 warnings',
    ]);
  });

  it('--json prints exactly one JSON document {valid, summary, issues}', async () => {
    const tree = edit(
      validTree(),
      '.omoi_os/tasks/TSK-002.md',
      'depends_on: [TSK-001]',
      'depends_on: [TSK-404]',
    );
    const result = await runCli(['spec', 'validate', '--json'], writeTree(tree));
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual(['valid', 'summary', 'issues', 'skipped']);
    expect(report.skipped).toEqual(['.omoi_os/tasks/task-template.md']);
    expect(report.valid).toBe(false);
    expect(report.summary).toEqual({ files: 8, errors: 1, warnings: 1 });
    expect(report.issues).toContainEqual({
      level: 'error',
      code: 'REF_MISSING',
      path: '.omoi_os/tasks/TSK-002.md',
      line: lineOf(tree['.omoi_os/tasks/TSK-002.md']!, 'depends_on:'),
      message: 'depends_on names task TSK-404, which does not exist',
    });
    expect(report.issues.map((i: { code: string }) => i.code)).toContain('DEP_ASYMMETRIC');
  });

  it('warnings pass, --strict makes them errors', async () => {
    const dir = writeTree(edit(validTree(), '.omoi_os/tasks/TSK-001.md', '## Objective', '## Goal'));
    const loose = await runCli(['spec', 'validate', dir]);
    expect(loose.exitCode).toBe(0);
    expect(loose.stdout).toContain(': warning SECTION_MISSING ');
    const strict = await runCli(['spec', 'validate', dir, '--strict', '--json']);
    expect(strict.exitCode).toBe(1);
    expect(JSON.parse(strict.stdout).issues).toEqual([
      expect.objectContaining({
        code: 'SECTION_MISSING',
        level: 'error',
        path: '.omoi_os/tasks/TSK-001.md',
        line: 1,
      }),
    ]);
  });

  it('a folder without .omoi_os/ is DIR_MISSING (exit 1); the .omoi_os/ folder itself is accepted as DIR', async () => {
    const empty = join(scratch, 'empty');
    mkdirSync(empty);
    const result = await runCli(['spec', 'validate'], empty);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^\.omoi_os: error DIR_MISSING .+\n0 files, 1 errors, 0 warnings\n$/);
    const dir = writeTree(validTree());
    expect((await runCli(['spec', 'validate', '.omoi_os'], dir)).exitCode).toBe(0);
  });

  it('without .omoi_os/ it says which omoi/* branches hold a spec tree, or how to start one', async () => {
    const nowhere = join(scratch, 'no-specs');
    mkdirSync(nowhere);
    const none = await runCli(['spec', 'show'], nowhere);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/no \.omoi_os\/ in .+no-specs\. To start a spec:/);
    expect(none.stderr).toContain('omoi ticket create "<what to build>" --project <name> --mode spec_driven');

    // a repository whose spec lives on omoi/TKT-002 (omoi/TKT-001 has none), main checked out
    const repoDir = join(scratch, 'repo-with-spec-branch');
    const sh = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: repoDir,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@t',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@t',
        },
      });
    mkdirSync(repoDir);
    sh('init', '-q', '-b', 'main');
    writeFileSync(join(repoDir, 'README.md'), '# r\n');
    sh('add', '.');
    sh('commit', '-qm', 'init');
    sh('branch', 'omoi/TKT-001');
    sh('switch', '-q', '-c', 'omoi/TKT-002');
    cpSync(join(repo, 'examples', 'spec-driven', '.omoi_os'), join(repoDir, '.omoi_os'), { recursive: true });
    sh('add', '.');
    sh('commit', '-qm', 'spec');
    sh('switch', '-q', 'main');
    for (const command of [
      ['spec', 'show'],
      ['spec', 'validate'],
    ]) {
      const result = await runCli(command, repoDir);
      expect(result.exitCode, command.join(' ')).toBe(1);
      expect(result.stderr).toMatch(/specs are on this branch:\n {2}omoi\/TKT-002\n/);
      expect(result.stderr).not.toMatch(/TKT-001/);
      expect(result.stderr).toContain('git switch omoi/TKT-002 && omoi spec show');
    }
  });

  it('usage errors exit 2 with a usage line: unknown flag, missing or unreadable DIR, extra argument', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'x');
    const locked = join(scratch, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o000);
    const cases = [
      ['spec', 'validate', '--bogus'],
      ['spec', 'validate', join(scratch, 'does-not-exist')],
      ['spec', 'validate', file],
      ['spec', 'validate', 'a', 'b'],
      ['spec', 'show', '--strict'],
    ];
    // Root reads every folder whatever its mode, so the permission case only holds for other users.
    if (process.getuid?.() !== 0) cases.push(['spec', 'validate', locked]);
    for (const args of cases) {
      const result = await runCli(args);
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^error: .+/);
      expect(result.stderr).toMatch(/usage: omoi spec (validate|show) (\[all\|[^\]]+\] )?\[DIR\]/);
    }
    chmodSync(locked, 0o755);
  });
});

describe('omoi spec show', () => {
  it('prints tickets with their tasks, the order and the ready tasks', async () => {
    const result = await runCli(['spec', 'show', join(repo, 'examples', 'spec-driven')]);
    expect(result.exitCode).toBe(0);
    const out = result.stdout;
    expect(out).toContain('TKT-001  [building]  HIGH  Webhook subscriptions API\n');
    expect(out).toContain('    TSK-004  [pending]  Subscription routes  (after TSK-002, TSK-003)\n');
    expect(out.indexOf('TKT-001')).toBeLessThan(out.indexOf('TKT-002'));
    expect(out).toContain(
      'Order: TSK-001, TSK-002, TSK-003, TSK-004, TSK-005, TSK-006, TSK-007, TSK-008, TSK-009, TSK-010, TSK-011, TSK-012\n',
    );
    expect(out).toContain('Ready: TSK-003, TSK-005, TSK-006\n');
  });

  it('--json: tickets, tasks, order, ready, cycles; exit 1 with the cycle when the tree is invalid', async () => {
    let tree = edit(validTree(), '.omoi_os/tasks/TSK-001.md', 'depends_on: []', 'depends_on: [TSK-002]');
    tree = edit(tree, '.omoi_os/tasks/TSK-002.md', 'blocks: []', 'blocks: [TSK-001]');
    const result = await runCli(['spec', 'show', '--json'], writeTree(tree));
    expect(result.exitCode).toBe(1);
    const view = JSON.parse(result.stdout);
    expect(view.valid).toBe(false);
    expect(view.tickets.map((t: { id: string }) => t.id)).toEqual(['TKT-001', 'TKT-002']);
    expect(view.tickets[0].tasks.map((t: { id: string }) => t.id)).toEqual(['TSK-001', 'TSK-002', 'TSK-003']);
    expect(view.cycles).toEqual([['TSK-001', 'TSK-002', 'TSK-001']]);
    expect(view.ready).toEqual([]);
    const human = await runCli(['spec', 'show'], writeTree(tree));
    expect(human.stdout).toContain('Cycle: TSK-001 -> TSK-002 -> TSK-001\n');
  });
});

describe('help and start-up cost', () => {
  it('omoi --help and omoi spec --help list the commands', async () => {
    const top = await runCli(['--help']);
    expect(top.exitCode).toBe(0);
    expect(top.stdout).toMatch(/^ {2}spec\b/m);
    const spec = await runCli(['spec', '--help']);
    expect(spec.exitCode).toBe(0);
    expect(spec.stdout).toMatch(/validate \[options\] \[dir\]/);
    expect(spec.stdout).toMatch(/show \[options\] \[what\] \[dir\]/);
    for (const command of ['trace', 'next-id', 'fix', 'import']) expect(spec.stdout).toContain(command);
  });

  it('spec validate loads only the CLI, the spec code, commander and yaml', async () => {
    const trace = join(scratch, 'trace.txt');
    writeFileSync(trace, '');
    const dir = writeTree(validTree());
    const result = await new Promise<number>((resolve) => {
      execFile(
        process.execPath,
        [
          '--import',
          join(import.meta.dirname, 'fixtures', 'trace-imports.mjs'),
          bin,
          'spec',
          'validate',
          dir,
        ],
        { env: { ...process.env, OMOI_TRACE_FILE: trace } },
        (error) => resolve(error ? 1 : 0),
      );
    });
    expect(result).toBe(0);
    const loaded = [...new Set(readFileSync(trace, 'utf8').split('\n'))]
      .filter((url) => url.startsWith('file:') && !url.includes('/test/cli/fixtures/'))
      .map((url) => new URL(url).pathname.slice(repo.length + 1));
    const outside = loaded.filter(
      (p) =>
        !/^(bin\/omoi\.js|dist\/cli\/.+|dist\/cli-bundle\/.+|dist\/spec-format\/.+|dist\/base\/(errors|version|redact)\.js|node_modules\/(commander|yaml)\/.+)$/.test(
          p,
        ),
    );
    expect(outside).toEqual([]);
    // The spec code: compiled modules, or the bundle's chunk of the validator (scripts/build-steps/30-cli-bundle.js).
    expect(
      loaded.some((p) => p.startsWith('dist/spec-format/') || p.startsWith('dist/cli-bundle/validate-')),
    ).toBe(true);
  });
});
