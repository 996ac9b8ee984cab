import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createGitRemote } from '../../test/support/git-remote.js';
import { brokerAuthEnv, cloneAndCheckout, git } from './git.js';

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

  it('points origin elsewhere after cloning from a mirror, keeping the branch upstream it wrote', async () => {
    // The checkout and `remote set-url` both write .git/config: run side by side, one of them lost
    // the config lock now and then (1 task in 300 of the three-orchestrator suite). Twenty clones
    // make a reintroduced race show here.
    const mirror = bare('mirror', 'main');
    for (let i = 0; i < 20; i++) {
      const dir = join(root, `ws-origin-${i}`);
      await cloneAndCheckout({
        repoUrl: mirror,
        dir,
        baseBranch: 'main',
        workBranch: `omoi/TKT-1${i}`,
        origin: 'http://127.0.0.1:7878/api/v1/git/p1.git',
      });
      expect(await git(['remote', 'get-url', 'origin'], { cwd: dir })).toBe(
        'http://127.0.0.1:7878/api/v1/git/p1.git',
      );
      expect(await git(['config', `branch.omoi/TKT-1${i}.merge`], { cwd: dir })).toBe('refs/heads/main');
      expect(await git(['ls-files'], { cwd: dir })).toBe('README.md');
    }
  });

  it('starts an orphan branch in an empty repository', async () => {
    const dir = join(root, 'ws-empty');
    await cloneAndCheckout({ repoUrl: bare('c'), dir, baseBranch: 'main', workBranch: 'omoi/TKT-003' });
    expect(await git(['symbolic-ref', '--short', 'HEAD'], { cwd: dir })).toBe('omoi/TKT-003');
  });
});

describe('brokerAuthEnv', () => {
  const api = 'http://127.0.0.1:7878';
  it('sends the token as a header scoped to the broker URL, through the environment only', () => {
    const url = `${api}/api/v1/git/p1.git`;
    expect(brokerAuthEnv(url, `${api}/api/v1`, 'tok')).toEqual({
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `http.${url}.extraHeader`,
      GIT_CONFIG_VALUE_0: 'Authorization: Bearer tok',
    });
  });

  it('gives the token to nothing but the API it belongs to', () => {
    expect(brokerAuthEnv('https://github.com/o/r.git', api, 'tok')).toEqual({});
    expect(brokerAuthEnv('http://127.0.0.1:9999/api/v1/git/p1.git', api, 'tok')).toEqual({});
    expect(brokerAuthEnv(`${api}/elsewhere.git`, api, 'tok')).toEqual({});
    expect(brokerAuthEnv('/srv/repo.git', api, 'tok')).toEqual({});
  });
});
