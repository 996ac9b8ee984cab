// `omoi start` checks its port before it opens (and creates) the data folder: a port in use is a
// failure that says which process holds it, when that can be found, and how to pick another port.
import { execFile } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { AppError } from '../base/errors.js';

const run = promisify(execFile);

/** Resolves when `host:port` can be bound (and releases it), else with the error code (EADDRINUSE, …). */
export function probePort(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'EUNKNOWN'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

export interface PortHolder {
  pid: number;
  command: string;
}

/** Socket inodes listening on `port`, from /proc/net/tcp and tcp6 (Linux). */
async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is ADDR:PORT; state 0A is LISTEN; inode is the tenth column
      if (cols[1]?.endsWith(`:${hex}`) && cols[3] === '0A' && cols[9] && cols[9] !== '0') inodes.add(cols[9]);
    }
  }
  return inodes;
}

async function commandOf(pid: number): Promise<string> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const args = cmdline.split('\0').filter(Boolean);
  if (args.length) return args.join(' ').slice(0, 200);
  return (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
}

/** The process listening on `port`: /proc first (no tool needed), then `ss -ltnp`. Null when hidden. */
export async function findPortHolder(port: number): Promise<PortHolder | null> {
  const inodes = await listeningInodes(port);
  if (inodes.size > 0) {
    const pids = (await readdir('/proc').catch(() => [] as string[])).filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
      for (const fd of fds) {
        const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) return { pid: Number(pid), command: await commandOf(Number(pid)) };
      }
    }
  }
  try {
    const { stdout } = await run('ss', ['-Hltnp', `sport = :${port}`], { timeout: 3000 });
    const found = /users:\(\("([^"]+)",pid=(\d+)/.exec(stdout);
    if (found)
      return { pid: Number(found[2]), command: await commandOf(Number(found[2])).catch(() => found[1]!) };
  } catch {
    // no ss, or not allowed: the message goes without the holder
  }
  return null;
}

/**
 * Throws CONFIG_INVALID saying what to do when `host:port` cannot be bound. Port 0 (any free port)
 * always passes.
 *
 * @example
 * await assertPortFree('127.0.0.1', 7878); // "port 7878 on 127.0.0.1 is in use by pid 4242 (node …)"
 */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const code = await probePort(host, port);
  if (code === null) return;
  const other = port === 65535 ? port - 1 : port + 1;
  if (code === 'EADDRINUSE') {
    const holder = await findPortHolder(port);
    throw new AppError(
      'CONFIG_INVALID',
      `port ${port} on ${host} is in use${holder ? ` by pid ${holder.pid} (${holder.command})` : ''}: ` +
        `stop ${holder ? 'it' : 'the process that holds it'}, or start on another port: omoi start --port ${other} ` +
        '(or OMOI_PORT; --port 0 picks a free one)',
    );
  }
  throw new AppError(
    'CONFIG_INVALID',
    code === 'EACCES'
      ? `port ${port} on ${host} needs privileges: use a port above 1023, e.g. omoi start --port 7878`
      : `cannot listen on ${host}:${port} (${code}): check --host and --port`,
  );
}
