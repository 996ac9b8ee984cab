// Where a project's repository is: an http(s) or ssh URL, an scp-like `user@host:path`, or a path on
// this machine (absolute, or a file:// URL). Anything else is refused before it reaches git: a
// value starting with `-` would be read as an option (`--upload-pack=…`), and git's other
// transports (`ext::sh -c …`) run commands. Used by the API (POST /projects) and `omoi project add`.
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AppError } from '../base/errors.js';

const run = promisify(execFile);

export type RepoLocation = { kind: 'remote'; url: string } | { kind: 'local'; path: string };

const SCP_LIKE = /^[A-Za-z0-9._~-]+@[A-Za-z0-9.-]+:(?!\/\/)[^\s]+$/;

/**
 * What a repo_url names, or VALIDATION_FAILED saying which forms are accepted.
 *
 * @example
 * parseRepoLocation('git@github.com:acme/shop.git'); // { kind: 'remote', url: 'git@github.com:acme/shop.git' }
 * parseRepoLocation('--upload-pack=touch /tmp/x');    // throws VALIDATION_FAILED
 */
export function parseRepoLocation(value: string): RepoLocation {
  const refuse = (why: string): never => {
    throw new AppError(
      'VALIDATION_FAILED',
      `repo_url ${why}: use an http(s):// or ssh:// URL, user@host:path, or an absolute path on the server`,
      { issues: [{ path: ['repo_url'], message: why }] },
    );
  };
  if (value.length === 0 || value.length > 2000) refuse('must have 1 to 2000 characters');
  if (/[\u0000-\u001f\u007f]/.test(value)) refuse('must not contain control characters');
  if (value.startsWith('-')) refuse('must not start with "-"');
  if (value.startsWith('/')) return { kind: 'local', path: value };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  if (scheme === 'file') {
    try {
      return { kind: 'local', path: fileURLToPath(value) };
    } catch {
      refuse('is not a valid file:// URL');
    }
  }
  if (scheme === 'http' || scheme === 'https' || scheme === 'ssh') {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return refuse('is not a valid URL');
    }
    if (!url.hostname) refuse('names no host');
    if (url.hostname.startsWith('-')) refuse('names a host starting with "-"');
    return { kind: 'remote', url: value };
  }
  if (value.includes('::')) refuse('names a git transport helper, which is not allowed');
  if (SCP_LIKE.test(value)) return { kind: 'remote', url: value };
  return refuse('is neither a URL nor an absolute path');
}

/**
 * Why a path on this machine is not a usable repository (missing, not a folder, not a git
 * repository), or null when it is one.
 *
 * @example
 * await localRepositoryProblem('/srv/git/shop.git'); // null
 */
export async function localRepositoryProblem(path: string): Promise<string | null> {
  if (!existsSync(path)) return `no such folder: ${path}`;
  if (!statSync(path).isDirectory()) return `${path} is not a folder`;
  try {
    await run('git', ['-C', path, 'rev-parse', '--git-dir'], {
      timeout: 15_000,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
  } catch {
    return `${path} is not a git repository (run git init there first)`;
  }
  return null;
}

/**
 * Checks a repo_url as a project is added: its form, and for a path on this machine that it is a
 * repository. Throws VALIDATION_FAILED with the reason.
 */
export async function checkRepoUrl(value: string): Promise<RepoLocation> {
  const location = parseRepoLocation(value);
  if (location.kind === 'local') {
    const problem = await localRepositoryProblem(location.path);
    if (problem)
      throw new AppError('VALIDATION_FAILED', `repo_url: ${problem}`, {
        issues: [{ path: ['repo_url'], message: problem }],
      });
  }
  return location;
}
