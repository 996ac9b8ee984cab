// Real git repositories for tests: a bare repository under a temporary folder stands in for the
// team's git host, so workers clone, branch and push back for real.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Runs git in `cwd` and returns its trimmed output. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export interface GitRemoteOptions {
  /** Folder name of the bare repository under `root`. */
  name?: string;
  /** Branches that get the one seed commit (a README); none leaves the repository empty. */
  branches?: string[];
  /** The branch the bare repository's HEAD names, whether or not it exists. */
  head?: string;
}

/**
 * A bare repository under `root` with one commit (a README) on each of `branches` (default
 * `main`), so a worker can clone it, branch and push back.
 *
 * @example
 * const remote = createGitRemote(tmp); // '/tmp/…/remote.git', main holds README.md
 * const empty = createGitRemote(tmp, { name: 'empty.git', branches: [] });
 */
export function createGitRemote(root: string, options: GitRemoteOptions = {}): string {
  const { name = 'remote.git', branches = ['main'], head = branches[0] ?? 'main' } = options;
  const remote = join(root, name);
  git(root, 'init', '--quiet', '--bare', `--initial-branch=${head}`, remote);
  if (branches.length === 0) return remote;
  const seed = join(root, `${name}-seed`);
  mkdirSync(seed, { recursive: true });
  git(seed, 'init', '--quiet');
  writeFileSync(join(seed, 'README.md'), '# app\n');
  git(seed, 'add', '.');
  git(seed, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'init');
  for (const branch of branches) git(seed, 'push', '--quiet', remote, `HEAD:refs/heads/${branch}`);
  return remote;
}
