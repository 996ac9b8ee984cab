// The `local` provider: a git clone in a per-task folder under the data folder and `omoi worker`
// as a child process with exactly the env contract, inside bubblewrap (src/sandbox/bwrap.ts): its
// own network, PID and user namespaces (uid 1000 inside; an unprivileged host uid when the server is
// root), a minimal read-only view of the machine, the workspace read-write, limits on processes,
// memory, CPU time and wall-clock time. The API is reached through a relay socket that adds the
// task's token outside (src/sandbox/api-relay.ts), the network through the project's egress proxy
// (src/sandbox/egress-proxy.ts). Without bwrap no worker runs unless OMOI_SANDBOX_ISOLATION=off.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { cloneAndCheckout } from '../git/git.js';
import { createApiRelay } from './api-relay.js';
import {
  bwrapArgs,
  installPaths,
  nodePaths,
  SANDBOX_PATHS,
  type SandboxLimits,
  sandboxEtcFiles,
  UNPRIVILEGED_HOST_ID,
} from './bwrap.js';
import { createEgressProxy, type EgressProxyOptions, type NetworkPolicy } from './egress-proxy.js';
import { LogBuffer } from './log-buffer.js';
import type { Sandbox, SandboxCreateOptions, SandboxExit, SandboxProvider } from './provider.js';

const execFileAsync = promisify(execFile);

/** Limits of a local sandbox when neither the settings nor the task name any. */
export const LOCAL_DEFAULT_LIMITS = { pids: 512, memoryMb: 4096, timeoutMs: 60 * 60_000 };

/** What a task is told when bubblewrap is missing and isolation was not turned off. */
export const NO_BWRAP_MESSAGE =
  'bubblewrap (bwrap) is not installed, so the local sandbox cannot isolate the agent and refuses to run it. ' +
  'Install it (`apt-get install bubblewrap` on Debian or Ubuntu, `dnf install bubblewrap` on Fedora), ' +
  'or set OMOI_SANDBOX_ISOLATION=off to run agents unisolated as the server user (agent code then has ' +
  "the server's access to this machine)";

/** What every run says when isolation is off. */
export const ISOLATION_OFF_MESSAGE =
  'isolation is off (OMOI_SANDBOX_ISOLATION=off): this worker and its agent run as the server user, ' +
  'with its files, network and credentials within reach';

export interface LocalProviderOptions {
  /** Workspaces live in `<dataDir>/workspaces/<sandbox id>/`. */
  dataDir: string;
  /** Absolute path of `bin/omoi.js`. */
  omoiBin: string;
  /** PATH handed to the worker (with HOME, the only variable of the server that goes in). */
  path: string;
  /** `auto` requires bwrap (tasks fail without it); `off` runs workers unisolated, saying so everywhere. */
  isolation?: 'auto' | 'off';
  /**
   * The server's worker surface the sandbox's API relay forwards to: a unix socket path
   * (`<data>/run/worker.sock`) or an http:// URL. Default: the env contract's OMOIOS_API_URL.
   */
  workerApi?: string;
  /** Defaults for limits a task does not set (OMOI_SANDBOX_PIDS, _MEMORY_MB, _TIMEOUT_MS, _CPUS). */
  limits?: { pids?: number; memoryMb?: number; timeoutMs?: number; cpus?: number };
  /** Hosts added to the registries list (OMOI_SANDBOX_ALLOW_HOSTS). */
  allowHosts?: string[];
  /** Test only: more host folders bound read-only at the same path (the suites' scripts and fixtures). */
  shareReadOnly?: string[];
  /** Test only: name resolution and private addresses the egress proxy may reach (see egress-proxy.ts). */
  egressTesting?: Pick<EgressProxyOptions, 'lookup' | 'exemptAddresses'>;
  /** Keep workspaces of failed runs for debugging. */
  keepOnFailure?: boolean;
  /** Grace period between SIGTERM and SIGKILL on cancel. */
  killGraceMs?: number;
  /** Where provider-level notes go (isolation off, …). */
  log?: (message: string) => void;
}

/** Where a program is on PATH, or null. */
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
  const bwrap = options.isolation === 'off' ? null : findOnPath('bwrap', options.path);
  const log = options.log ?? (() => {});
  const root = workspaceRoot(options.dataDir, bwrap !== null, log);
  const sandboxes = new Map<string, LocalSandbox>();
  if (options.isolation === 'off') log(`local sandbox: ${ISOLATION_OFF_MESSAGE}`);
  else if (!bwrap) log(`local sandbox: ${NO_BWRAP_MESSAGE}`);
  let probe: Promise<string | null> | null = null;

  return {
    name: 'local',
    async availability() {
      if (!findOnPath('git', options.path)) return { available: false, reason: 'git is not on PATH' };
      if (!existsSync(options.omoiBin)) return { available: false, reason: `${options.omoiBin} is missing` };
      if (options.isolation !== 'off' && !bwrap) return { available: false, reason: NO_BWRAP_MESSAGE };
      return { available: true };
    },
    async create(create) {
      if (options.isolation !== 'off') {
        if (!bwrap) throw new Error(NO_BWRAP_MESSAGE);
        probe ??= probeBwrap(bwrap);
        const broken = await probe;
        if (broken) throw new Error(broken);
      }
      const id = `local-${create.taskId.slice(0, 8)}-${randomBytes(4).toString('hex')}`;
      await mkdir(root, { recursive: true, mode: 0o711 });
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

/** The host uid and gid a sandbox runs as: the server's own, or `nobody` when the server is root. */
function hostIds(): { uid: number; gid: number } | null {
  return process.getuid?.() === 0 ? { uid: UNPRIVILEGED_HOST_ID, gid: UNPRIVILEGED_HOST_ID } : null;
}

/**
 * Where sandbox folders live: `<data>/workspaces`, unless the server is root and a folder above it
 * is closed to the sandbox's host user (a data folder under /root, a 0700 temp folder); then a
 * folder of this data folder's own under /var/tmp, which the log names.
 */
function workspaceRoot(dataDir: string, isolated: boolean, log: (message: string) => void): string {
  const preferred = resolve(dataDir, 'workspaces');
  const ids = isolated ? hostIds() : null;
  if (!ids) return preferred;
  const blocked = untraversableSync(join(preferred, 'x'), ids.uid);
  if (!blocked) return preferred;
  const base = existsSync('/var/tmp') ? '/var/tmp' : tmpdir();
  const digest = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12);
  const fallback = join(base, `omoi-sandboxes-${digest}`);
  mkdirSync(fallback, { recursive: true, mode: 0o711 });
  chmodSync(fallback, 0o711);
  log(
    `local sandbox: ${blocked} is closed to the sandbox user (uid ${ids.uid}), so workspaces live in ${fallback}`,
  );
  return fallback;
}

/** The first folder above `dir` that a user without privileges cannot pass through, or null. */
function untraversableSync(dir: string, uid: number): string | null {
  let current = resolve(dir, '..');
  for (;;) {
    if (!existsSync(current)) {
      const up = resolve(current, '..');
      if (up === current) return null;
      current = up;
      continue;
    }
    const info = statSync(current);
    const passes = info.uid === uid ? (info.mode & 0o100) !== 0 : (info.mode & 0o001) !== 0;
    if (!passes) return current;
    const up = resolve(current, '..');
    if (up === current) return null;
    current = up;
  }
}

/** The first folder above `dir` that a user without privileges cannot pass through, or null. */
async function untraversable(dir: string, uid: number): Promise<string | null> {
  let current = resolve(dir, '..');
  for (;;) {
    const info = await stat(current);
    const passes = info.uid === uid ? (info.mode & 0o100) !== 0 : (info.mode & 0o001) !== 0;
    if (!passes) return current;
    const up = resolve(current, '..');
    if (up === current) return null;
    current = up;
  }
}

/** Null when bwrap can build a sandbox here; else why not, in words an operator can act on. */
async function probeBwrap(bwrap: string): Promise<string | null> {
  const ids = hostIds();
  return new Promise((done) => {
    const child = spawn(
      bwrap,
      ['--unshare-all', '--ro-bind', '/', '/', '--uid', '1000', '--gid', '1000', '--', '/bin/true'],
      { stdio: ['ignore', 'ignore', 'pipe'], ...(ids ?? {}) },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => done(`cannot run ${bwrap}: ${error.message}`));
    child.on('close', (code) =>
      done(
        code === 0
          ? null
          : `bubblewrap cannot create a sandbox on this machine (${stderr.trim() || `exit ${code}`}); ` +
              'allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or an AppArmor ' +
              'profile for bwrap), or set OMOI_SANDBOX_ISOLATION=off to run agents unisolated',
      ),
    );
  });
}

class LocalSandbox implements Sandbox {
  readonly provider = 'local';
  private readonly buffer = new LogBuffer();
  private child: ChildProcess | null = null;
  private cancelled = false;
  private timedOut = false;
  private exit: SandboxExit | null = null;
  private readonly exited: Promise<SandboxExit>;
  private resolveExit!: (exit: SandboxExit) => void;
  private readonly servers: Server[] = [];
  private wallClock: NodeJS.Timeout | null = null;
  /** The clone of the workspace, which runs while the worker starts (see `run`); null when it succeeded. */
  private cloning: Promise<string | null> = Promise.resolve(null);
  /** Why the workspace could not be readied, once the worker was already started. */
  private workspaceError: string | null = null;

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
    if (this.wallClock) clearTimeout(this.wallClock);
    for (const server of this.servers.splice(0)) server.close();
    if (exit.error) this.buffer.system(`sandbox failed: ${exit.error}`);
    this.buffer.end();
    this.resolveExit(exit);
  }

  private limits(): SandboxLimits & { timeoutMs: number } {
    const defaults = this.options.limits ?? {};
    const resources = this.create.resources ?? {};
    const timeoutMs = resources.timeoutMs ?? defaults.timeoutMs ?? LOCAL_DEFAULT_LIMITS.timeoutMs;
    const cpus = resources.cpus ?? defaults.cpus ?? 1;
    return {
      pids: resources.pids ?? defaults.pids ?? LOCAL_DEFAULT_LIMITS.pids,
      memoryMb: resources.memoryMb ?? defaults.memoryMb ?? LOCAL_DEFAULT_LIMITS.memoryMb,
      // No process may burn more CPU than the whole sandbox could in its lifetime.
      cpuSeconds: Math.ceil((timeoutMs / 1000) * cpus),
      timeoutMs,
    };
  }

  /**
   * Everything of the sandbox but its workspace: HOME and /tmp, and (isolated) its /etc files and
   * the sockets of the API relay (which adds the task's token outside: no credential goes in) and
   * of the egress proxy. Returns why it cannot run, or null.
   */
  private async prepare(home: string, tmp: string): Promise<string | null> {
    await mkdir(home, { recursive: true });
    await mkdir(tmp, { recursive: true });
    if (!this.bwrap) return null;
    const env = this.create.env;
    const run = join(this.dir, 'run');
    const etc = join(this.dir, 'etc');
    await mkdir(run, { recursive: true, mode: 0o755 });
    await mkdir(etc, { recursive: true, mode: 0o755 });
    for (const [name, text] of Object.entries(sandboxEtcFiles())) await writeFile(join(etc, name), text);
    const upstream = this.options.workerApi ?? env.OMOIOS_API_URL;
    const token = env.OMOIOS_API_KEY;
    if (!upstream || !token) return 'OMOIOS_API_URL or OMOIOS_API_KEY is missing from the env contract';
    await this.serve(createApiRelay({ upstream, token }), join(run, 'api.sock'));
    const network: NetworkPolicy = this.create.network ?? 'registries';
    if (network !== 'none') {
      const proxy = createEgressProxy({
        policy: network,
        extraHosts: this.options.allowHosts ?? [],
        ...(this.options.egressTesting ?? {}),
        log: (line) => this.buffer.system(line),
      });
      await this.serve(proxy, join(run, 'egress.sock'));
    }
    return null;
  }

  /** Listens on a unix socket the sandbox may connect to (the folder around it is what guards it). */
  private async serve(server: Server, path: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    this.servers.push(server);
    await chmod(path, 0o666);
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
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // The workspace folder exists (empty) from the start: the worker starts in it, mounted, while
    // the clone fills it (below).
    await mkdir(repo);

    // Clone and branch outside the sandbox, with the server's git: from the server's mirror when
    // there is one (then `origin` is REPO_URL, the git broker, so the worker pushes through it).
    // The rest of the sandbox (folders, /etc files, relay and egress sockets) is made meanwhile,
    // and the worker process starts meanwhile too: Node and the worker's modules take about as long
    // to load as the clone. The worker waits for one line on its stdin ("ready") before it touches
    // the workspace (OMOI_WORKSPACE_GATE=stdin); a failed clone stops it instead.
    const from = this.create.cloneFrom;
    this.buffer.system(`cloning ${repoUrl} (base ${base}, work branch ${work})`);
    this.cloning = cloneAndCheckout({
      repoUrl: from ?? repoUrl,
      dir: repo,
      baseBranch: base,
      workBranch: work,
      ...(from ? { origin: repoUrl } : {}),
    }).then(
      () => null,
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    let prepared: string | null;
    try {
      prepared = await this.prepare(home, tmp);
    } catch (error) {
      await this.cloning;
      throw error;
    }
    if (prepared || this.cancelled) {
      const cloneError = await this.cloning;
      return this.finish({ exitCode: null, error: prepared ?? cloneError ?? 'cancelled' });
    }
    if (!this.bwrap) return this.spawnUnisolated(repo, home, tmp);
    const run = join(this.dir, 'run');
    const etc = join(this.dir, 'etc');
    const network: NetworkPolicy = this.create.network ?? 'registries';

    const ids = hostIds();
    if (ids) {
      // Root's sandbox runs as `nobody` outside: it owns its folder, workspace, HOME and /tmp, and
      // must be able to reach them (bwrap opens every source path as that user).
      const blocked = await untraversable(this.dir, ids.uid);
      if (blocked)
        return this.finish({
          exitCode: null,
          error:
            `the sandbox's host user (uid ${ids.uid}) cannot reach ${blocked}: allow it to pass through ` +
            `(\`chmod o+x ${blocked}\`, which lists nothing) or run the server as a user other than root`,
        });
      await chown(this.dir, ids.uid, ids.gid);
      // The workspace (root's while git clones into it) is handed over once the clone is done.
      await execFileAsync('chown', ['-R', `${ids.uid}:${ids.gid}`, home, tmp]);
    }

    const limits = this.limits();
    const childEnv: Record<string, string> = {
      ...withoutCredentials(env),
      PATH: this.options.path,
      HOME: SANDBOX_PATHS.home,
      TMPDIR: SANDBOX_PATHS.tmp,
      OMOI_SANDBOX_API_SOCKET: `${SANDBOX_PATHS.run}/api.sock`,
      OMOI_WORKSPACE_GATE: 'stdin',
      ...(network !== 'none' ? { OMOI_SANDBOX_EGRESS_SOCKET: `${SANDBOX_PATHS.run}/egress.sock` } : {}),
    };
    const args = bwrapArgs({
      workspace: repo,
      home,
      tmp,
      run,
      etc,
      readOnly: [
        ...nodePaths(process.execPath),
        ...installPaths(this.options.omoiBin),
        ...(this.options.shareReadOnly ?? []),
        ...testScript(this.create.env),
      ],
      hide: [this.options.dataDir],
      limits,
      command: [process.execPath, resolve(this.options.omoiBin), 'worker'],
    });
    const child = spawn(this.bwrap, args, {
      cwd: '/',
      env: childEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      ...(ids ?? {}),
    });
    this.buffer.system(
      `worker process started (pid ${child.pid}) in bwrap as uid 1000` +
        `${ids ? ` (host uid ${ids.uid})` : ''}, network ${network}, ` +
        `limits: ${limits.pids} processes, ${limits.memoryMb} MB per process, ${limits.timeoutMs} ms`,
    );
    this.wallClock = setTimeout(() => {
      this.timedOut = true;
      this.buffer.system(`the sandbox ran past its wall-clock limit of ${limits.timeoutMs} ms; stopping it`);
      this.kill('SIGKILL');
    }, limits.timeoutMs);
    this.attach(child);
    this.openGate(child, ids ? { repo, ...ids } : null);
  }

  /**
   * Once the clone is done (and its files handed to the sandbox's user), tells the worker to go on;
   * when the clone failed, stops the worker, and the run ends with the clone's error.
   */
  private openGate(child: ChildProcess, owner: { repo: string; uid: number; gid: number } | null): void {
    const ready = async (): Promise<string | null> => {
      const cloneError = await this.cloning;
      if (cloneError) return cloneError;
      if (owner) await execFileAsync('chown', ['-R', `${owner.uid}:${owner.gid}`, owner.repo]);
      return null;
    };
    void ready()
      .catch((error: unknown) => (error instanceof Error ? error.message : String(error)))
      .then((error) => {
        if (error) {
          this.workspaceError = error;
          child.stdin?.destroy();
          this.kill('SIGKILL');
        } else child.stdin?.end('ready\n');
      });
  }

  /** OMOI_SANDBOX_ISOLATION=off: the worker as a plain child process, which every run says. */
  private spawnUnisolated(repo: string, home: string, tmp: string): void {
    this.buffer.system(ISOLATION_OFF_MESSAGE);
    const childEnv: Record<string, string> = {
      ...this.create.env,
      PATH: this.options.path,
      HOME: home,
      TMPDIR: tmp,
      OMOI_WORKSPACE_GATE: 'stdin',
    };
    const child = spawn(process.execPath, [this.options.omoiBin, 'worker'], {
      cwd: repo,
      env: childEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.buffer.system(`worker process started (pid ${child.pid}), isolation off`);
    const timeoutMs = this.limits().timeoutMs;
    this.wallClock = setTimeout(() => {
      this.timedOut = true;
      this.buffer.system(`the worker ran past its wall-clock limit of ${timeoutMs} ms; stopping it`);
      this.kill('SIGKILL');
    }, timeoutMs);
    this.attach(child);
    this.openGate(child, null);
  }

  private attach(child: ChildProcess): void {
    this.child = child;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.buffer.push('stdout', chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.buffer.push('stderr', chunk));
    child.on('error', (error) =>
      this.finish({ exitCode: null, error: `cannot start the worker: ${error.message}` }),
    );
    // A stdin the worker no longer reads (it exited first) is no error of the run's.
    child.stdin?.on('error', () => {});
    // The run is over when the worker is gone and the clone has settled: `destroy` removes the
    // folder then, never while git still writes into it.
    child.on('close', (code, signal) => void this.cloning.then(() => this.closed(code, signal)));
  }

  /** The worker is gone and the clone settled: the run's exit, and why when it is not the worker's own. */
  private closed(code: number | null, signal: NodeJS.Signals | null): void {
    this.child = null;
    if (this.workspaceError) this.finish({ exitCode: null, error: this.workspaceError });
    else if (this.timedOut)
      this.finish({
        exitCode: code,
        signal,
        error: `the sandbox ran past its wall-clock limit of ${this.limits().timeoutMs} ms and was stopped`,
      });
    else
      this.finish(
        this.cancelled ? { exitCode: code, signal, error: 'cancelled' } : { exitCode: code, signal },
      );
  }

  /** Signals the sandbox's whole process group (bwrap takes its namespaces down with it). */
  private kill(signal: NodeJS.Signals): void {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
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
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), this.options.killGraceMs ?? 5_000);
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

/** Variables holding credentials; in a sandbox they carry a placeholder the relay replaces outside. */
const CREDENTIAL_VARIABLES = [
  'OMOIOS_API_KEY',
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'OPENAI_API_KEY',
];

/** The placeholder a sandbox sees for every credential. */
export const RELAY_PLACEHOLDER = 'omoi-relay';

function withoutCredentials(env: Record<string, string>): Record<string, string> {
  const copy = { ...env };
  for (const name of CREDENTIAL_VARIABLES) if (name in copy) copy[name] = RELAY_PLACEHOLDER;
  return copy;
}

/**
 * The script file of the test-only `scripted` runtime (src/agents/scripted.ts), shared read-only so
 * the worker inside can read it; suites rewrite it between runs. Nothing for any other runtime.
 */
function testScript(env: Readonly<Record<string, string>>): string[] {
  const file = env.OMOI_TEST_RUNTIME_SCRIPT;
  if (env.AGENT_RUNTIME !== 'scripted' || !file || !file.startsWith('/') || !existsSync(file)) return [];
  return [file];
}
