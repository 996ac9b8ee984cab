import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createGitRemote } from '../../test/support/git-remote.js';
import { chooseDefaultBranch, detectDefaultBranch } from './default-branch.js';

const root = mkdtempSync(join(tmpdir(), 'omoi-branch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const bareWith = (name: string, branches: string[]) =>
  createGitRemote(root, { name: `${name}.git`, branches, head: 'master' });

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
