import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createGitRemote } from '../../test/support/git-remote.js';
import { cloneAndCheckout, git } from './git.js';

const root = mkdtempSync(join(tmpdir(), 'omoi-git-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const bare = (name: string, branch?: string) =>
  createGitRemote(root, { name: `${name}.git`, branches: branch ? [branch] : [], head: 'master' });

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
