// A lock file for an embedded (PGlite) data folder. PGlite gives no error when two processes open
// one folder and silently loses writes, so the folder is claimed by a file naming the holder's pid.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../base/errors.js';

export const LOCK_FILE = 'omoi.lock';

interface LockContent {
  pid: number;
  host: string;
  started_at: string;
}

/** True when a process with this pid exists (EPERM means it exists but is not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): LockContent | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
    return typeof parsed.pid === 'number' ? (parsed as LockContent) : null;
  } catch {
    return null;
  }
}

/**
 * Takes `<dir>/omoi.lock` for this process, or throws DATA_DIR_LOCKED naming the process that holds
 * it. A lock left by a process that no longer exists (on this host) is taken over. Returns the
 * release function, which is safe to call twice.
 *
 * @example
 * const release = acquireDataDirLock('./.omoi');
 * try { … } finally { release(); }
 */
export function acquireDataDirLock(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const mine: LockContent = { pid: process.pid, host: hostname(), started_at: new Date().toISOString() };
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      writeFileSync(path, JSON.stringify(mine), { flag: 'wx' });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (readLock(path)?.pid === process.pid) {
          try {
            unlinkSync(path);
          } catch {
            // already gone: nothing to release
          }
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readLock(path);
    const otherHost = holder !== null && holder.host !== mine.host;
    if (holder !== null && (otherHost || alive(holder.pid))) {
      const where = otherHost ? ` on host ${holder.host}` : '';
      throw new AppError(
        'DATA_DIR_LOCKED',
        `the data folder ${dir} is in use by process ${holder.pid}${where} (since ${holder.started_at}); ` +
          `stop that process or use another --data folder (lock file: ${path})`,
        { status: 409 },
      );
    }
    // Stale (its process is gone) or unreadable (a crash mid-write): take it over.
    try {
      unlinkSync(path);
    } catch {
      // someone else removed it first; retry the exclusive create
    }
  }
  throw new AppError('DATA_DIR_LOCKED', `could not take the lock file ${path}`, { status: 409 });
}
