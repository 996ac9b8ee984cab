// The `local` provider: a git clone in a per-task folder under the data folder and `omoi worker`
// as a child process with exactly the env contract. When bubblewrap is installed the worker runs
// inside it as a non-root user (uid 1000 in a user namespace) with the whole file system read-only
// except its workspace (and the remote repository when that is a local path, so `git push` works).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { cloneAndCheckout, git } from '../git/git.js';
import { LogBuffer } from './log-buffer.js';
import type { Sandbox, SandboxCreateOptions, SandboxExit, SandboxProvider } from './provider.js';

export interface LocalProviderOptions {
  /** Workspaces live in `<dataDir>/workspaces/<sandbox id>/`. */
  dataDir: string;
  /** Absolute path of `bin/omoi.js`. */
  omoiBin: string;
  /** PATH handed to the worker (with HOME, the only variable of the server that goes in). */
  path: string;
  /** `auto` uses bwrap when it is installed; `off` never does. */
  isolation?: 'auto' | 'off';
  /** Keep workspaces of failed runs for debugging. */
  keepOnFailure?: boolean;
  /** Grace period between SIGTERM and SIGKILL on cancel. */
  killGraceMs?: number;
  /** Where provider-level notes go (isolation off, …). */
  log?: (message: string) => void;
}

/** Where `bwrap` is, or null; looked up on PATH once per provider. */
function findOnPath(name: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** A local filesystem path named by a git URL (`/srv/repo.git`, `file:///srv/repo.git`), else null. */
export function localRepoPath(url: string): string | null {
  if (url.startsWith('file://')) return new URL(url).pathname;
  if (isAbsolute(url)) return url;
  return null;
}

/**
 * Creates the local provider.
 *
 * @example
 * const provider = createLocalProvider({ dataDir: '.omoi', omoiBin: '/opt/omoi/bin/omoi.js', path: process.env.PATH ?? '' });
 * const sandbox = await provider.create({ taskId, env });
 */
export function createLocalProvider(options: LocalProviderOptions): SandboxProvider {
  const root = resolve(options.dataDir, 'workspaces');
  const bwrap = options.isolation === 'off' ? null : findOnPath('bwrap', options.path);
  let warned = false;
  const log = options.log ?? (() => {});
  const sandboxes = new Map<string, LocalSandbox>();

  return {
    name: 'local',
    async availability() {
      if (!findOnPath('git', options.path)) return { available: false, reason: 'git is not on PATH' };
      if (!existsSync(options.omoiBin)) return { available: false, reason: `${options.omoiBin} is missing` };
      return { available: true };
    },
    async create(create) {
      if (!bwrap && !warned) {
        warned = true;
        log(
          options.isolation === 'off'
            ? 'local sandbox: isolation is off (OMOI_SANDBOX_ISOLATION=off); workers run as this user'
            : 'local sandbox: bwrap (bubblewrap) is not installed, isolation is off; workers run as this user',
        );
      }
      const id = `local-${create.taskId.slice(0, 8)}-${randomBytes(4).toString('hex')}`;
      const sandbox = new LocalSandbox(id, join(root, id), create, options, bwrap, () =>
        sandboxes.delete(id),
      );
      sandboxes.set(id, sandbox);
      sandbox.start();
      return sandbox;
    },
    async list() {
      // Also the folders on disk: a crashed server leaves workspaces that no process holds.
      const onDisk = existsSync(root)
        ? (await readdir(root)).filter((name) => /^local-[\w-]+$/.test(name))
        : [];
      return [...new Set([...sandboxes.keys(), ...onDisk])];
    },
    async destroyById(id) {
      const sandbox = sandboxes.get(id);
      if (sandbox) {
        await sandbox.cancel();
        await sandbox.destroy();
      } else if (/^local-[\w-]+$/.test(id)) {
        await rm(join(root, id), { recursive: true, force: true });
      }
      sandboxes.delete(id);
    },
  };
}

class LocalSandbox implements Sandbox {
  readonly provider = 'local';
  private readonly buffer = new LogBuffer();
  private child: ChildProcess | null = null;
  private cancelled = false;
  private exit: SandboxExit | null = null;
  private readonly exited: Promise<SandboxExit>;
  private resolveExit!: (exit: SandboxExit) => void;

  constructor(
    readonly id: string,
    private readonly dir: string,
    private readonly create: SandboxCreateOptions,
    private readonly options: LocalProviderOptions,
    private readonly bwrap: string | null,
    private readonly onDestroyed?: () => void,
  ) {
    this.exited = new Promise((r) => {
      this.resolveExit = r;
    });
  }

  start(): void {
    this.run().catch((error) => this.finish({ exitCode: null, error: String(error) }));
  }

  private finish(exit: SandboxExit): void {
    if (this.exit) return;
    this.exit = exit;
    if (exit.error) this.buffer.system(`sandbox failed: ${exit.error}`);
    this.buffer.end();
    this.resolveExit(exit);
  }

  private async run(): Promise<void> {
    const env = this.create.env;
    const repoUrl = env.REPO_URL;
    const base = env.BASE_BRANCH || 'main';
    const work = env.WORK_BRANCH || base;
    if (!repoUrl) return this.finish({ exitCode: null, error: 'REPO_URL is missing from the env contract' });
    const repo = join(this.dir, 'repo');
    const home = join(this.dir, 'home');
    const tmp = join(this.dir, 'tmp');
    await mkdir(home, { recursive: true });
    await mkdir(tmp, { recursive: true });

    // Clone and branch outside the sandbox, with the server's git: from the server's mirror when
    // there is one (then `origin` is REPO_URL, the git broker, so the worker pushes through it).
    const from = this.create.cloneFrom;
    this.buffer.system(`cloning ${repoUrl} (base ${base}, work branch ${work})`);
    try {
      await cloneAndCheckout({ repoUrl: from ?? repoUrl, dir: repo, baseBranch: base, workBranch: work });
      if (from) await git(['remote', 'set-url', 'origin', repoUrl], { cwd: repo });
    } catch (error) {
      return this.finish({ exitCode: null, error: error instanceof Error ? error.message : String(error) });
    }
    if (this.cancelled) return this.finish({ exitCode: null, error: 'cancelled' });

    const childEnv: Record<string, string> = {
      ...env,
      PATH: this.options.path,
      HOME: home,
      TMPDIR: tmp,
    };
    const node = process.execPath;
    let command: string;
    let args: string[];
    if (this.bwrap) {
      const remote = localRepoPath(repoUrl);
      command = this.bwrap;
      args = [
        '--ro-bind',
        '/',
        '/',
        '--dev',
        '/dev',
        '--proc',
        '/proc',
        '--bind',
        this.dir,
        this.dir,
        ...(remote && existsSync(remote) ? ['--bind', remote, remote] : []),
        '--unshare-user',
        '--uid',
        '1000',
        '--gid',
        '1000',
        '--unshare-pid',
        '--unshare-ipc',
        '--die-with-parent',
        '--chdir',
        repo,
        node,
        this.options.omoiBin,
        'worker',
      ];
    } else {
      command = node;
      args = [this.options.omoiBin, 'worker'];
    }
    const child = spawn(command, args, { cwd: repo, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.buffer.system(
      `worker process started (pid ${child.pid})${this.bwrap ? ' in bwrap as uid 1000' : ', isolation off'}`,
    );
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.buffer.push('stdout', chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.buffer.push('stderr', chunk));
    child.on('error', (error) =>
      this.finish({ exitCode: null, error: `cannot start the worker: ${error.message}` }),
    );
    child.on('close', (code, signal) => {
      this.child = null;
      this.finish(
        this.cancelled ? { exitCode: code, signal, error: 'cancelled' } : { exitCode: code, signal },
      );
    });
  }

  logs(): AsyncIterable<{ stream: 'stdout' | 'stderr' | 'system'; text: string; ts: number }> {
    return this.buffer.lines();
  }

  wait(): Promise<SandboxExit> {
    return this.exited;
  }

  async cancel(): Promise<void> {
    this.cancelled = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), this.options.killGraceMs ?? 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  async destroy(): Promise<void> {
    // Stop first and wait for the run to settle: removing the folder while `git clone` still writes
    // into it would leave a half workspace behind.
    if (!this.exit) {
      await this.cancel();
      await this.exited;
    }
    this.onDestroyed?.();
    const failed = this.exit?.exitCode !== 0;
    if (failed && (this.create.keepOnFailure ?? this.options.keepOnFailure)) {
      this.buffer.system(`workspace kept for debugging: ${this.dir}`);
      return;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
