// The server's bare mirror of each project, `<data>/mirrors/<project-id>.git`: the only copy of the
// repository a sandbox can reach (through the git broker). The server alone creates and updates
// it, fetching from and pushing to the real remote with the project's credential. Every git here
// runs with no hooks, no fsmonitor, GIT_CONFIG_NOSYSTEM=1 and an empty HOME, so no configuration
// from outside (a global ~/.gitconfig, the remote's own config) applies.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppError } from '../base/errors.js';
import type { Credential } from '../core/credentials.js';
import { scrub } from './redact.js';

export interface MirrorsOptions {
  dataDir: string;
  /** The opened credential of a project, or null (src/core/credentials.ts `reveal`). */
  credential: (projectId: string) => Promise<Credential | null>;
  /**
   * The variables of the server's environment git may see: PATH and the proxy and CA settings an
   * https remote may need. Default: those names picked from this process's environment.
   */
  baseEnv?: Record<string, string | undefined>;
  /** Per-command timeout (fetch and push of a large repository take a while). */
  timeoutMs?: number;
}

/** The names of the server's environment the server's git keeps (nothing with a secret in it). */
const PASSED_ENV = [
  'PATH',
  'LANG',
  'LC_ALL',
  'TZ',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];

/** One async lock per mirror folder, shared by every Mirrors of this process. */
const locks = new Map<string, Promise<unknown>>();
function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  const next = previous.then(fn, fn);
  const settled = next.catch(() => {});
  locks.set(key, settled);
  void settled.then(() => {
    if (locks.get(key) === settled) locks.delete(key);
  });
  return next;
}

/**
 * The fetch of each mirror that is queued and has not started yet, by folder, remote and default
 * branch. A run asks for a fetch that starts after it asked; every run that asks while one is
 * queued shares it. Without this, 16 runs starting together fetched one after another under the
 * mirror's lock (1.7 s from claim to sandbox at 16 at once, the whole of a no-op task's time).
 */
const queuedFetches = new Map<string, Promise<void>>();

/**
 * Tasks whose run this process fetched the mirror for. Where several servers share a database, the
 * orchestrator that fetched may not be the process serving the sandbox's clone: the broker fetches
 * again for a task it has not seen.
 */
const fetchedFor = new Set<string>();
function rememberTask(taskId: string): void {
  fetchedFor.add(taskId);
  if (fetchedFor.size > 10_000) fetchedFor.delete(fetchedFor.values().next().value as string);
}

export interface RefUpdate {
  ref: string;
  oldId: string;
  newId: string;
}

const ZERO = /^0+$/;

/** A revision the read helpers accept: a commit id or a branch name, never an option or a range. */
const SAFE_REV = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,250}$/;

export interface MirrorDiffFile {
  path: string;
  status: 'added' | 'modified' | 'deleted' | 'renamed' | 'other';
  insertions: number;
  deletions: number;
  binary: boolean;
}

export interface MirrorDiff {
  files: MirrorDiffFile[];
  patch: string;
  truncated: boolean;
}

const STATUS: Record<string, MirrorDiffFile['status']> = {
  A: 'added',
  M: 'modified',
  D: 'deleted',
  R: 'renamed',
};

/** Joins `git diff --name-status -z` and `--numstat -z` (renames name both paths) by the new path. */
function parseFiles(names: string, counts: string): MirrorDiffFile[] {
  const stats = new Map<string, { insertions: number; deletions: number; binary: boolean }>();
  const numFields = counts.split('\0');
  for (let i = 0; i < numFields.length; i++) {
    const field = numFields[i]!;
    if (!field) continue;
    const [added, deleted, inline] = field.split('\t');
    // A rename's paths follow as two more fields: old, then new.
    let file = inline ?? '';
    if (file === '') {
      i += 2;
      file = numFields[i] ?? '';
    }
    const binary = added === '-' && deleted === '-';
    stats.set(file, {
      insertions: binary ? 0 : Number(added),
      deletions: binary ? 0 : Number(deleted),
      binary,
    });
  }
  const files: MirrorDiffFile[] = [];
  const fields = names.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const code = fields[i]!;
    if (!code) continue;
    const letter = code[0]!;
    const takesTwo = letter === 'R' || letter === 'C';
    const file = fields[i + (takesTwo ? 2 : 1)] ?? '';
    i += takesTwo ? 2 : 1;
    const stat = stats.get(file) ?? { insertions: 0, deletions: 0, binary: false };
    files.push({ path: file, status: STATUS[letter] ?? 'other', ...stat });
  }
  return files;
}

/** Runs a command and keeps at most `max` bytes of its output (then stops it). */
function readCapped(
  command: string[],
  opts: { cwd: string; env: Record<string, string> },
  max: number,
): Promise<{ patch: string; truncated: boolean }> {
  return new Promise((done, fail) => {
    const child = spawn(command[0]!, command.slice(1), { ...opts, stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (truncated) return;
      if (size + chunk.length > max) {
        chunks.push(chunk.subarray(0, max - size));
        size = max;
        truncated = true;
        child.kill();
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    child.on('error', (error) => fail(new AppError('GIT_FAILED', `cannot run git: ${error.message}`)));
    child.on('close', (code) => {
      if (code !== 0 && !truncated)
        return fail(new AppError('GIT_FAILED', `git diff failed: exit code ${code}`));
      // A cut in the middle of a character would leave a replacement sign: cut back to a line end.
      let text = Buffer.concat(chunks).toString('utf8');
      if (truncated) text = text.slice(0, Math.max(0, text.lastIndexOf('\n') + 1));
      done({ patch: text, truncated });
    });
  });
}

/** Quotes a path for GIT_SSH_COMMAND (run by a shell). */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The mirrors of one data folder.
 *
 * @example
 * const mirrors = createMirrors({ dataDir, credential: (id) => services.credentials.reveal(id) });
 * await mirrors.fetch(project.id, project.repo_url, project.default_branch);   // before a task starts
 * mirrors.path(project.id);                                                     // what the broker serves
 */
export function createMirrors(options: MirrorsOptions) {
  const root = resolve(options.dataDir, 'mirrors');
  const home = join(root, '.home');
  const noHooks = join(root, '.no-hooks');
  const tmpRoot = join(root, '.tmp');
  const source = options.baseEnv ?? process.env;
  const baseEnv: Record<string, string> = {};
  for (const name of PASSED_ENV) {
    const value = source[name];
    if (value) baseEnv[name] = value;
  }

  const path = (projectId: string) => {
    if (!/^[0-9a-f-]{36}$/i.test(projectId)) throw new AppError('BAD_REQUEST', 'not a project id');
    return join(root, `${projectId}.git`);
  };

  /** Flags every git of the broker gets before its subcommand. */
  const safety = () => [
    '-c',
    `core.hooksPath=${noHooks}`,
    '-c',
    'core.fsmonitor=false',
    '-c',
    'protocol.ext.allow=never',
  ];

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...baseEnv,
    HOME: home,
    XDG_CONFIG_HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'true',
    SSH_ASKPASS: 'true',
    ...extra,
  });

  /** Runs git; a failure is GIT_FAILED with git's own reason (secrets scrubbed). */
  async function run(
    args: string[],
    opts: { cwd?: string; env?: Record<string, string>; secrets?: string[] } = {},
  ): Promise<string> {
    return new Promise((done, fail) => {
      const child = spawn('git', [...safety(), ...args], {
        cwd: opts.cwd ?? root,
        env: opts.env ?? env(),
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: options.timeoutMs ?? 10 * 60_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < 64_000) stderr += d;
      });
      child.on('error', (error) => fail(new AppError('GIT_FAILED', `cannot run git: ${error.message}`)));
      child.on('close', (code, signal) => {
        if (code === 0) return done(stdout.trim());
        const why = scrub(stderr, opts.secrets ?? [])
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !/^(hint|remote: *$)/.test(l))
          .slice(-12)
          .join(' | ');
        fail(
          new AppError(
            'GIT_FAILED',
            `git ${args[0]} failed${signal ? ` (${signal})` : ''}: ${why || `exit code ${code}`}`,
          ),
        );
      });
    });
  }

  let dirsMade: Promise<void> | null = null;
  function ensureDirs(): Promise<void> {
    dirsMade ??= (async () => {
      await mkdir(home, { recursive: true, mode: 0o700 });
      await mkdir(noHooks, { recursive: true, mode: 0o700 });
      await mkdir(tmpRoot, { recursive: true, mode: 0o700 });
    })().catch((error) => {
      dirsMade = null;
      throw error;
    });
    return dirsMade;
  }

  /** Creates the mirror when missing. */
  async function ensure(projectId: string, defaultBranch?: string): Promise<string> {
    const dir = path(projectId);
    await ensureDirs();
    if (!existsSync(join(dir, 'HEAD'))) {
      await run(['init', '--quiet', '--bare', dir]);
      for (const [key, value] of [
        ['core.hooksPath', noHooks],
        ['core.fsmonitor', 'false'],
        ['receive.denyDeletes', 'true'],
        ['receive.fsckObjects', 'true'],
        ['gc.auto', '0'],
      ] as const)
        await run(['config', key, value], { cwd: dir });
    }
    // HEAD is a one-line file; rewriting it only when it names another branch spares a git process
    // on every fetch before a run.
    const head = `ref: refs/heads/${defaultBranch}`;
    if (defaultBranch && (await readFile(join(dir, 'HEAD'), 'utf8').catch(() => '')).trim() !== head)
      await run(['symbolic-ref', 'HEAD', `refs/heads/${defaultBranch}`], { cwd: dir });
    return dir;
  }

  /**
   * The environment that lets the server's git reach `url` with the project's credential: an https
   * token as an Authorization header scoped to the remote's origin (passed through GIT_CONFIG_*,
   * never on a command line or in a file), an ssh key as a 0600 file in a private temporary folder
   * used through GIT_SSH_COMMAND. `cleanup` removes the key file.
   */
  async function credentialEnv(
    projectId: string,
    url: string,
  ): Promise<{ env: Record<string, string>; secrets: string[]; cleanup: () => Promise<void> }> {
    const credential = await options.credential(projectId);
    const none = { env: env(), secrets: [], cleanup: async () => {} };
    const knownHostsFile = join(root, `${projectId}.known_hosts`);
    const sshBase = ['ssh', '-F', '/dev/null', '-o', 'BatchMode=yes'];
    if (!credential) {
      return /^https?:\/\//i.test(url) ? none : { ...none, env: env({ GIT_SSH_COMMAND: sshBase.join(' ') }) };
    }
    if (credential.kind === 'https_token') {
      if (!/^https?:\/\//i.test(url)) return none;
      const origin = new URL(url);
      const header = `Authorization: Basic ${Buffer.from(`${credential.username}:${credential.secret}`).toString('base64')}`;
      return {
        env: env({
          GIT_CONFIG_COUNT: '1',
          GIT_CONFIG_KEY_0: `http.${origin.protocol}//${origin.host}/.extraHeader`,
          GIT_CONFIG_VALUE_0: header,
        }),
        secrets: [credential.secret, header],
        cleanup: async () => {},
      };
    }
    const dir = await mkdtemp(join(tmpRoot, 'ssh-'));
    const keyFile = join(dir, 'key');
    await writeFile(
      keyFile,
      credential.privateKey.endsWith('\n') ? credential.privateKey : `${credential.privateKey}\n`,
      {
        mode: 0o600,
      },
    );
    let hostOptions: string[];
    if (credential.knownHosts) {
      const given = join(dir, 'known_hosts');
      await writeFile(
        given,
        credential.knownHosts.endsWith('\n') ? credential.knownHosts : `${credential.knownHosts}\n`,
        {
          mode: 0o600,
        },
      );
      hostOptions = ['-o', `UserKnownHostsFile=${shellQuote(given)}`, '-o', 'StrictHostKeyChecking=yes'];
    } else {
      // No known_hosts given: trust the key seen first, then hold the remote to it.
      hostOptions = [
        '-o',
        `UserKnownHostsFile=${shellQuote(knownHostsFile)}`,
        '-o',
        'StrictHostKeyChecking=accept-new',
      ];
    }
    const command = [
      ...sshBase,
      '-i',
      shellQuote(keyFile),
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'IdentityAgent=none',
      ...hostOptions,
    ];
    return {
      env: env({ GIT_SSH_COMMAND: command.join(' ') }),
      secrets: [credential.privateKey],
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }

  return {
    /** The mirror's folder (it may not exist yet). */
    path,
    ensure,
    /** The environment for git commands run in a mirror (no credential). */
    env,
    /** The flags every broker git gets before its subcommand. */
    safety,

    /** Creates the mirror if needed and fetches every branch and tag of `url` into it. */
    async fetch(projectId: string, url: string, defaultBranch?: string, forTask?: string): Promise<string> {
      if (url.startsWith('-')) throw new AppError('BAD_REQUEST', 'a repository URL cannot start with "-"');
      const dir = path(projectId);
      const key = `${dir}\0${url}\0${defaultBranch ?? ''}`;
      let queued = queuedFetches.get(key);
      if (!queued) {
        queued = withLock(dir, async () => {
          // Started: whoever asks from now on needs a later fetch.
          queuedFetches.delete(key);
          await ensure(projectId, defaultBranch);
          const auth = await credentialEnv(projectId, url);
          try {
            await run(
              [
                'fetch',
                '--quiet',
                '--no-write-fetch-head',
                '--',
                url,
                '+refs/heads/*:refs/heads/*',
                '+refs/tags/*:refs/tags/*',
              ],
              { cwd: dir, env: auth.env, secrets: auth.secrets },
            );
          } finally {
            await auth.cleanup();
          }
        });
        queuedFetches.set(key, queued);
      }
      await queued;
      if (forTask) rememberTask(forTask);
      return dir;
    },

    /** Whether this process fetched the mirror for `taskId`'s run. */
    fetchedFor(taskId: string): boolean {
      return fetchedFor.has(taskId);
    },

    /**
     * Pushes `updates` (already in the mirror) to `url`. On a refusal the mirror's refs go back to
     * where they were, so the mirror never holds what the remote refused; returns the reason per ref.
     */
    async pushUpstream(projectId: string, url: string, updates: RefUpdate[]): Promise<Map<string, string>> {
      const dir = path(projectId);
      const failed = new Map<string, string>();
      if (updates.length === 0) return failed;
      const auth = await credentialEnv(projectId, url);
      try {
        for (const update of updates) {
          try {
            await run(['push', '--quiet', '--', url, `${update.newId}:${update.ref}`], {
              cwd: dir,
              env: auth.env,
              secrets: auth.secrets,
            });
          } catch (error) {
            failed.set(update.ref, error instanceof Error ? error.message : String(error));
            if (ZERO.test(update.oldId))
              await run(['update-ref', '-d', update.ref, update.newId], { cwd: dir }).catch(() => {});
            else
              await run(['update-ref', update.ref, update.oldId, update.newId], { cwd: dir }).catch(() => {});
          }
        }
      } finally {
        await auth.cleanup();
      }
      return failed;
    },

    /** The commit `rev` names in the mirror, or null (no mirror yet, or no such branch or commit). */
    async resolve(projectId: string, rev: string): Promise<string | null> {
      const dir = path(projectId);
      if (!existsSync(join(dir, 'HEAD')) || !SAFE_REV.test(rev)) return null;
      return run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], {
        cwd: dir,
      }).catch(() => null);
    },

    /** The commits reachable from `head` but not from `base`, newest first (at most `max`). */
    async commits(projectId: string, base: string | null, head: string, max = 200): Promise<string[]> {
      const range = base ? [`^${base}`, head] : [head];
      if (![head, ...(base ? [base] : [])].every((r) => SAFE_REV.test(r))) return [];
      const out = await run(['rev-list', `--max-count=${max}`, '--end-of-options', ...range], {
        cwd: path(projectId),
      });
      return out ? out.split('\n') : [];
    },

    /**
     * What `head` changed since it left `base` (their merge base): each file with its status and
     * line counts, and the unified patch cut at `maxPatchBytes`.
     */
    async diff(projectId: string, base: string, head: string, maxPatchBytes = 200_000): Promise<MirrorDiff> {
      if (!SAFE_REV.test(base) || !SAFE_REV.test(head)) throw new AppError('BAD_REQUEST', 'not a revision');
      const cwd = path(projectId);
      const range = ['--end-of-options', `${base}...${head}`];
      const [names, counts] = await Promise.all([
        run(['diff', '--name-status', '-z', '-M', ...range], { cwd }),
        run(['diff', '--numstat', '-z', '-M', ...range], { cwd }),
      ]);
      const patch = await readCapped(
        ['git', ...safety(), 'diff', '--no-color', '--no-ext-diff', '-M', ...range],
        { cwd, env: env() },
        maxPatchBytes,
      );
      return { files: parseFiles(names, counts), ...patch };
    },

    /** Runs `fn` holding the mirror's lock (a push and its upstream push, against concurrent fetches). */
    locked<T>(projectId: string, fn: () => Promise<T>): Promise<T> {
      return withLock(path(projectId), fn);
    },
  };
}

export type Mirrors = ReturnType<typeof createMirrors>;
