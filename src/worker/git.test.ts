import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cloneAndCheckout, git } from './git.js';

const root = mkdtempSync(join(tmpdir(), 'omoi-git-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function bare(name: string, branch?: string): string {
  const remote = join(root, `${name}.git`);
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=master', remote]);
  if (branch) {
    const seed = join(root, `${name}-seed`);
    execFileSync('git', ['init', '--quiet', seed]);
    writeFileSync(join(seed, 'README.md'), '# seed\n');
    const id = ['-c', 'user.email=t@t', '-c', 'user.name=t'];
    execFileSync('git', [...id, 'add', '.'], { cwd: seed });
    execFileSync('git', [...id, 'commit', '--quiet', '-m', 'init'], { cwd: seed });
    execFileSync('git', ['push', '--quiet', remote, `HEAD:refs/heads/${branch}`], { cwd: seed });
  }
  return remote;
}

describe('cloneAndCheckout', () => {
  it('bases the work branch on the base branch', async () => {
    const dir = join(root, 'ws-main');
    await cloneAndCheckout({
      repoUrl: bare('a', 'main'),
      dir,
      baseBranch: 'main',
      workBranch: 'omoi/TKT-001',
    });
    expect(await git(['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: dir })).toBe('omoi/TKT-001');
    expect(await git(['ls-files'], { cwd: dir })).toBe('README.md');
  });

  it('refuses a missing base branch when the repository has history, naming the branches it has', async () => {
    const dir = join(root, 'ws-missing');
    const run = cloneAndCheckout({
      repoUrl: bare('b', 'main'),
      dir,
      baseBranch: 'master',
      workBranch: 'omoi/TKT-002',
    });
    await expect(run).rejects.toThrow(/base branch master does not exist .* \(it has main\)/);
  });

  it('starts an orphan branch in an empty repository', async () => {
    const dir = join(root, 'ws-empty');
    await cloneAndCheckout({ repoUrl: bare('c'), dir, baseBranch: 'main', workBranch: 'omoi/TKT-003' });
    expect(await git(['symbolic-ref', '--short', 'HEAD'], { cwd: dir })).toBe('omoi/TKT-003');
  });
});
