// The bubblewrap command line of a local sandbox, as a pure function of what the sandbox may see.
// The view is built up from nothing (never `--ro-bind / /`): the toolchain read-only, a few files of
// /etc, the installation read-only, the workspace, a private HOME and /tmp, and /run/omoi with the
// sockets the server offers this sandbox. Everything else of the machine is absent. Namespaces: its
// own user (uid 1000 inside), PID, IPC, UTS, cgroup and network namespace, so the host's loopback
// (the API, PostgreSQL, Redis, …) is unreachable and no process outside can be seen.
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

/** The uid and gid the worker has inside the sandbox. */
export const SANDBOX_UID = 1000;
/** Where things appear inside the sandbox. */
export const SANDBOX_PATHS = {
  workspace: '/workspace',
  home: '/home/sandbox',
  tmp: '/tmp',
  run: '/run/omoi',
} as const;

/**
 * The unprivileged host uid a sandbox runs as when the server is root (`nobody`). A root-owned
 * sandbox would map uid 1000 to root outside, and root is exempt from RLIMIT_NPROC.
 */
export const UNPRIVILEGED_HOST_ID = 65534;

/** Resource limits applied to every process of the sandbox (set inside, after the namespaces exist). */
export interface SandboxLimits {
  /** Processes (and threads) of the sandbox at once: RLIMIT_NPROC in the sandbox's user namespace. */
  pids: number;
  /** Writable memory of each process in MB: RLIMIT_DATA (the V8 heap, buffers, malloc). */
  memoryMb: number;
  /** CPU seconds of each process: RLIMIT_CPU. */
  cpuSeconds: number;
}

export interface BwrapSpec {
  /** Host folder bound read-write at /workspace (the checkout). */
  workspace: string;
  /** Host folders bound read-write at /home/sandbox and /tmp. */
  home: string;
  tmp: string;
  /** Host folder bound read-only at /run/omoi (the API and egress sockets). */
  run: string;
  /** Host folder with passwd, group and hosts for the sandbox (bound over /etc's). */
  etc: string;
  /** Host paths bound read-only at the same place: the node install, the Omoi installation. */
  readOnly: string[];
  /** Host folders that must not be visible even when inside a read-only path (the data folder). */
  hide: string[];
  limits: SandboxLimits;
  /** The command run inside (after the limits are set). */
  command: string[];
}

/** Toolchain folders bound read-only when they exist (symlinked ones, as on merged-/usr systems, become symlinks). */
const TOOLCHAIN = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** What of /etc a shell, git, node, npm, pip and TLS need; passwd, group and hosts are the sandbox's own. */
const ETC = [
  '/etc/resolv.conf',
  '/etc/nsswitch.conf',
  '/etc/host.conf',
  '/etc/gai.conf',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/pki',
  '/etc/localtime',
  '/etc/timezone',
  '/etc/protocols',
  '/etc/services',
  '/etc/mime.types',
  '/etc/os-release',
  '/etc/debian_version',
  '/etc/profile',
  '/etc/bash.bashrc',
  '/etc/inputrc',
];

/** The passwd, group and hosts files of every sandbox. */
export function sandboxEtcFiles(): Record<string, string> {
  return {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:${SANDBOX_UID}:${SANDBOX_UID}:Omoi sandbox:${SANDBOX_PATHS.home}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\nsandbox:x:${SANDBOX_UID}:\nnogroup:x:65534:\n`,
    hosts: '127.0.0.1 localhost\n::1 localhost\n',
  };
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * A shell line that sets the limits and then runs the command: inside the sandbox, so that
 * RLIMIT_NPROC counts only this sandbox's processes (its own user namespace), and hard limits, so
 * nothing inside can raise them again. bash spells the process limit `-u`, dash `-p`.
 */
export function limitScript(limits: SandboxLimits): string {
  const pids = Math.max(16, Math.floor(limits.pids));
  const dataKb = Math.max(64 * 1024, Math.floor(limits.memoryMb * 1024));
  const cpu = Math.max(1, Math.ceil(limits.cpuSeconds));
  return (
    `{ ulimit -H -S -u ${pids} 2>/dev/null || ulimit -H -S -p ${pids}; } && ` +
    `ulimit -H -S -d ${dataKb} && ulimit -H -S -t ${cpu} && exec "$@"`
  );
}

/**
 * The arguments of `bwrap` for one sandbox.
 *
 * @example
 * spawn('bwrap', bwrapArgs({ workspace, home, tmp, run, etc, readOnly: ['/opt/omoi'], hide: [dataDir],
 *   limits: { pids: 512, memoryMb: 4096, cpuSeconds: 3600 }, command: [process.execPath, omoiBin, 'worker'] }));
 */
export function bwrapArgs(spec: BwrapSpec): string[] {
  const args: string[] = [
    '--unshare-all', // user, pid, ipc, uts, cgroup and network namespaces: only a loopback of its own
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_UID),
    '--hostname',
    'omoi-sandbox',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
  ];
  for (const dir of TOOLCHAIN) {
    if (!existsSync(dir)) continue;
    const stat = lstatSync(dir);
    if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else args.push('--ro-bind', dir, dir);
  }
  for (const path of ETC) if (existsSync(path)) args.push('--ro-bind', path, path);
  for (const name of ['passwd', 'group', 'hosts'])
    args.push('--ro-bind', join(spec.etc, name), `/etc/${name}`);
  const covered = (path: string) =>
    TOOLCHAIN.some((dir) => existsSync(dir) && !lstatSync(dir).isSymbolicLink() && isInside(path, dir));
  const readOnly = [...new Set(spec.readOnly.map((p) => resolve(p)))].filter((p) => !covered(p));
  // The private /tmp and HOME first: an installation under /tmp is then bound on top of them.
  args.push(
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--bind',
    spec.tmp,
    SANDBOX_PATHS.tmp,
    '--bind',
    spec.home,
    SANDBOX_PATHS.home,
  );
  for (const path of readOnly) args.push('--ro-bind', path, path);
  // The data folder (database, other workspaces, keys) stays hidden even when it lies inside a
  // bound folder, as `./.omoi` inside the installation does.
  for (const path of spec.hide) {
    const abs = resolve(path);
    if (readOnly.some((p) => isInside(abs, p)) || covered(abs)) args.push('--tmpfs', abs);
  }
  args.push(
    '--ro-bind',
    spec.run,
    SANDBOX_PATHS.run,
    '--bind',
    spec.workspace,
    SANDBOX_PATHS.workspace,
    '--chdir',
    SANDBOX_PATHS.workspace,
    '--',
    '/bin/sh',
    '-c',
    limitScript(spec.limits),
    'omoi-sandbox',
    ...spec.command,
  );
  return args;
}

/** The folders an installation needs at run time: beside its entry file, and the package's own. */
export function installPaths(omoiBin: string): string[] {
  const paths = [dirname(resolve(omoiBin))];
  let dir = dirname(resolve(omoiBin));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'package.json'))) {
      for (const part of ['package.json', 'bin', 'dist', 'node_modules', join('src', 'skills')]) {
        if (existsSync(join(dir, part))) paths.push(join(dir, part));
      }
      break;
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return paths;
}

/** The node installation (a folder outside /usr, such as /opt/node or ~/.nvm/…, is bound too). */
export function nodePaths(execPath: string): string[] {
  return [dirname(dirname(resolve(execPath)))];
}
