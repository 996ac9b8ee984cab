import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseDefaultBranch, detectDefaultBranch } from './default-branch.js';

const root = mkdtempSync(join(tmpdir(), 'omoi-branch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd, stdio: 'pipe' });

function bareWith(name: string, branches: string[]): string {
  const remote = join(root, `${name}.git`);
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=master', remote]);
  const seed = join(root, `${name}-seed`);
  execFileSync('git', ['init', '--quiet', seed]);
  writeFileSync(join(seed, 'README.md'), '# seed\n');
  git(seed, 'add', '.');
  git(seed, 'commit', '--quiet', '-m', 'init');
  for (const branch of branches) git(seed, 'push', '--quiet', remote, `HEAD:refs/heads/${branch}`);
  return remote;
}

describe('detectDefaultBranch', () => {
  it('skips a HEAD that names a branch never pushed (git init --bare, then main pushed)', async () => {
    expect(await detectDefaultBranch(bareWith('only-main', ['main']))).toBe('main');
  });

  it('keeps HEAD when that branch exists', async () => {
    expect(await detectDefaultBranch(bareWith('both', ['feature', 'master']))).toBe('master');
  });

  it("answers an empty repository's HEAD, and null for a missing one", async () => {
    expect(await detectDefaultBranch(bareWith('empty', []))).toBe('master');
    const fresh = join(root, 'fresh');
    execFileSync('git', ['init', '--quiet', '--initial-branch=trunk', fresh]);
    expect(await detectDefaultBranch(fresh)).toBe('trunk');
    expect(await detectDefaultBranch(join(root, 'nope.git'))).toBeNull();
  });

  it('falls back to the only branch there is', () => {
    expect(chooseDefaultBranch('ref: refs/heads/master\tHEAD\n', 'abc\trefs/heads/release\n')).toBe(
      'release',
    );
  });
});
