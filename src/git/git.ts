// The git CLI through execFile (simple-git throws on this machine's GIT_SSL_CAINFO). Used by the
// worker (commit, push, clone when a provider did not) and by the local provider (clone).
import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import { AppError } from '../base/errors.js';

const execFileAsync = promisify(execFile);

/** The fixed author of every commit the platform makes. */
export const WORKER_AUTHOR = { name: 'Omoi Worker', email: 'worker@omoi.local' };

export interface GitOptions {
  cwd: string;
  /** Environment for git; a credentials prompt would hang forever, so it is always turned off. */
  env?: NodeJS.ProcessEnv;
  /** Added to the environment of this git only (the broker's auth header: see `brokerAuthEnv`). */
  authEnv?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * The environment that makes git send the task token to the git broker: an Authorization header
 * through GIT_CONFIG_* (never in the URL, never in .git/config), scoped to REPO_URL, and only when
 * REPO_URL is on the API the token belongs to. Anything else gets nothing.
 *
 * @example
 * brokerAuthEnv('http://127.0.0.1:7878/api/v1/git/<id>.git', 'http://127.0.0.1:7878', token);
 * // { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.http://127.0.0.1:7878/api/v1/git/<id>.git.extraHeader', … }
 */
export function brokerAuthEnv(repoUrl: string, apiUrl: string, token: string): Record<string, string> {
  let repo: URL;
  let api: URL;
  try {
    repo = new URL(repoUrl);
    api = new URL(apiUrl);
  } catch {
    return {};
  }
  if (!/^https?:$/.test(repo.protocol) || repo.origin !== api.origin) return {};
  if (!repo.pathname.startsWith('/api/v1/git/')) return {};
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${repoUrl}.extraHeader`,
    GIT_CONFIG_VALUE_0: `Authorization: Bearer ${token}`,
  };
}

/**
 * The reason of a git failure: the lines that say why (`fatal:`, `error:`, `hint:`, `remote:`
 * errors), then the last lines, without repeats, bounded. git often prints the cause first and
 * progress or advice after it, so the last lines alone lose it.
 */
export function gitFailureReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const telling = lines.filter(
    (l) => /^(fatal|error|hint|remote: error|remote: fatal):/i.test(l) || /^!\s*\[/.test(l),
  );
  const kept: string[] = [];
  for (const line of [...telling, ...lines.slice(-3)]) if (!kept.includes(line)) kept.push(line);
  const text = kept.join(' | ');
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

/** Runs one git command; a failure is GIT_FAILED with the lines of stderr that say why. */
export async function git(args: string[], options: GitOptions): Promise<string> {
  try {
    const { stdout } = await execFileAsync('git', args, {
      cwd: options.cwd,
      env: { ...(options.env ?? process.env), ...options.authEnv, GIT_TERMINAL_PROMPT: '0' },
      timeout: options.timeoutMs ?? 5 * 60_000,
      maxBuffer: 64 << 20,
    });
    return stdout.trim();
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    const reason = gitFailureReason(stderr || (error instanceof Error ? error.message : String(error)));
    throw new AppError('GIT_FAILED', `git ${args[0]} failed: ${reason}`, { cause: error });
  }
}

async function hasRef(ref: string, options: GitOptions): Promise<boolean> {
  return git(['rev-parse', '--verify', '--quiet', ref], options).then(
    () => true,
    () => false,
  );
}

/**
 * Clones `repoUrl` into `dir` and checks out `workBranch`: the branch as already pushed when it
 * exists (a rerun of the same ticket continues it), else a new branch from `baseBranch`, else
 * (an empty repository) an orphan branch.
 *
 * @example
 * await cloneAndCheckout({ repoUrl: '/srv/app.git', dir: '/tmp/ws/repo', baseBranch: 'main', workBranch: 'omoi/TKT-001' });
 */
export async function cloneAndCheckout(options: {
  repoUrl: string;
  dir: string;
  baseBranch: string;
  workBranch: string;
  /** `origin` afterwards, when it is not `repoUrl` (a clone from the server's mirror pushes through the broker). */
  origin?: string;
  env?: NodeJS.ProcessEnv;
  /** See `brokerAuthEnv`. */
  authEnv?: Record<string, string>;
}): Promise<void> {
  const { repoUrl, dir, baseBranch, workBranch, origin, env, authEnv } = options;
  // --no-local: a repository given as a plain path is read through git's transport, not by copying
  // its object folder, which races with other workers pushing to it at the same moment.
  // --no-checkout: the work branch is checked out once, below, not the remote's HEAD first.
  // `--` so that a repository named like an option is never read as one.
  await git(['clone', '--quiet', '--no-tags', '--no-local', '--no-checkout', '--', repoUrl, dir], {
    cwd: '/',
    env,
    ...(authEnv ? { authEnv } : {}),
  });
  const at = { cwd: dir, env };
  // One listing of the remote's branches instead of a rev-parse per candidate.
  const listed = await git(['for-each-ref', '--format=%(refname:lstrip=3)', 'refs/remotes/origin/'], at);
  const branches = listed.split('\n').filter((name) => name && name !== 'HEAD');
  const from = [workBranch, baseBranch].find((name) => branches.includes(name));
  if (from) {
    await git(['checkout', '--quiet', '-B', workBranch, `origin/${from}`], at);
  } else if (branches.length > 0) {
    // Only an empty repository starts from nothing: basing the work on no history while the
    // repository has some would push a branch that shares nothing with it.
    throw new AppError(
      'GIT_FAILED',
      `the base branch ${baseBranch} does not exist in ${repoUrl} (it has ${branches.slice(0, 5).join(', ')}); ` +
        `set the project's default_branch to one of them`,
    );
  } else {
    await git(['checkout', '--quiet', '--orphan', workBranch], at);
  }
  // After the checkout, not beside it: `checkout -B … origin/x` writes the branch's upstream into
  // .git/config too, and a second writer fails on the config lock.
  if (origin) await git(['remote', 'set-url', 'origin', origin], at);
}

/** `-c` options that make every commit the worker's, unsigned. */
const AS_WORKER = [
  '-c',
  `user.name=${WORKER_AUTHOR.name}`,
  '-c',
  `user.email=${WORKER_AUTHOR.email}`,
  '-c',
  'commit.gpgsign=false',
];

/** `-m` arguments: the message, then the trailers as the last paragraph (where git reads trailers). */
function messageArgs(message: string, trailers?: string): string[] {
  return ['-m', message, ...(trailers ? ['-m', trailers] : [])];
}

/**
 * Stages `paths` (all changes when empty), commits them with the worker's fixed author when
 * anything changed (or when a merge is being concluded), and returns the commit at HEAD (null on an
 * empty orphan branch). `trailers` (`Omoi-Task: …` lines) end the message.
 */
export async function commitAll(
  options: GitOptions & { message: string; paths?: string[]; trailers?: string },
): Promise<{
  commit: string | null;
  committed: boolean;
}> {
  const paths = options.paths && options.paths.length > 0 ? options.paths : ['.'];
  await git(['add', '-A', '--', ...paths], options);
  const staged = await git(['diff', '--cached', '--name-only'], options);
  const merging = await hasRef('MERGE_HEAD', options);
  if (staged !== '' || merging) {
    await git(
      [...AS_WORKER, 'commit', '--quiet', '--no-verify', ...messageArgs(options.message, options.trailers)],
      options,
    );
  }
  const commit = await git(['rev-parse', '--verify', '--quiet', 'HEAD'], options).catch(() => null);
  return { commit: commit || null, committed: staged !== '' || merging };
}

/** The commit at HEAD, or null on an empty orphan branch. */
export async function headCommit(cwd: string): Promise<string | null> {
  return (await git(['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd }).catch(() => '')) || null;
}

/** Fetches `branch` from origin; returns its commit. */
export async function fetchBranch(options: GitOptions & { branch: string }): Promise<string> {
  await git(
    [
      'fetch',
      '--quiet',
      '--no-tags',
      'origin',
      `+refs/heads/${options.branch}:refs/remotes/origin/${options.branch}`,
    ],
    options,
  );
  return git(['rev-parse', `refs/remotes/origin/${options.branch}^{commit}`], options);
}

export type MergeOutcome = { ok: true; commit: string } | { ok: false; conflicts: string[] };

/**
 * Merges `ref` into HEAD with a merge commit (`--no-ff`) whose message ends with `trailers`. On a
 * conflict the merge is left in progress (for the agent to resolve) and the conflicting files are
 * returned; any other failure throws.
 */
export async function mergeRef(
  options: GitOptions & { ref: string; message: string; trailers?: string },
): Promise<MergeOutcome> {
  try {
    await git(
      [
        ...AS_WORKER,
        'merge',
        '--no-ff',
        '--no-edit',
        ...messageArgs(options.message, options.trailers),
        options.ref,
      ],
      options,
    );
  } catch (error) {
    const conflicts = await unmergedPaths(options.cwd);
    if (conflicts.length === 0) throw error;
    return { ok: false, conflicts };
  }
  return { ok: true, commit: await git(['rev-parse', 'HEAD'], options) };
}

/** Files git still marks as unmerged. */
export async function unmergedPaths(cwd: string): Promise<string[]> {
  const out = await git(['diff', '--name-only', '--diff-filter=U'], { cwd }).catch(() => '');
  return out.split('\n').filter(Boolean);
}

/** Conflict markers as git writes them, at the start of a line. */
const MARKER = /^(<{7} |={7}$|>{7} )/m;

/** Whether `text` still holds a conflict marker. */
export function hasConflictMarkers(text: string): boolean {
  return MARKER.test(text);
}

/** What a run changed between two commits. */
export async function changeStats(
  cwd: string,
  base: string | null,
  head: string,
): Promise<{ files: number; insertions: number; deletions: number }> {
  // An empty repository has no base: everything in head is new.
  const args = base ? ['diff', '--shortstat', base, head] : ['show', '--shortstat', '--format=', head];
  const out = await git(args, { cwd });
  const number = (pattern: RegExp) => Number(pattern.exec(out)?.[1] ?? 0);
  return {
    files: number(/(\d+) files? changed/),
    insertions: number(/(\d+) insertions?\(\+\)/),
    deletions: number(/(\d+) deletions?\(-\)/),
  };
}

/** Pushes HEAD to `branch` on origin. */
export async function pushBranch(options: GitOptions & { branch: string }): Promise<void> {
  await git(['push', '--quiet', 'origin', `HEAD:refs/heads/${options.branch}`], options);
}

/** Points the checkout's `origin` at `url`. */
export async function setOrigin(dir: string, url: string): Promise<void> {
  await git(['remote', 'set-url', 'origin', '--', url], { cwd: dir });
}

/** Whether `dir` is the top of a git checkout. */
export async function isCheckout(dir: string): Promise<boolean> {
  // A folder inside some other repository (a data folder under a project) is not a checkout.
  const top = await git(['rev-parse', '--show-toplevel'], { cwd: dir }).catch(() => null);
  return top !== null && (await realpath(top)) === (await realpath(dir));
}
