import { isUtf8 } from 'node:buffer';
import {
  closeSync,
  type Dirent,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { join, sep } from 'node:path';
import { SPEC_DIR } from './format.js';
import type { SpecFile } from './types.js';

/** Files larger than this are not read (a spec file is a page of Markdown, not a data dump). */
export const MAX_SPEC_FILE_BYTES = 16 * 1024 * 1024;

export interface LoadOptions {
  /** Called for each Markdown file that was not read, with the reason (a symlink out of the tree, …). */
  onSkip?: (path: string, reason: string) => void;
}

/** UTF-8 text as a string (byte-order mark kept, so hashes match the bytes); anything else as bytes. */
function asText(bytes: Buffer): string | Uint8Array {
  return isUtf8(bytes) ? bytes.toString('utf8') : new Uint8Array(bytes);
}

/** The file's bytes, or null when it is larger than the limit (checked on the open file, not read). */
function readLimited(path: string): Buffer | null {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size > MAX_SPEC_FILE_BYTES ? null : readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads every Markdown file under `<root>/.omoi_os/` (UTF-8 text as strings, other bytes as
 * Uint8Array), with paths relative to `root` (so they start
 * with `.omoi_os/`), sorted by path. Symlinks are followed only when their target stays inside
 * `root`; loops are cut. Unreadable entries are skipped (reported through `onSkip`), never thrown:
 * the validator turns whatever is read into a report. Returns [] when there is no `.omoi_os/`.
 *
 * @example
 * const files = await loadSpecFiles('/repo'); // [{ path: '.omoi_os/tasks/TSK-001.md', content: '---…' }]
 */
export async function loadSpecFiles(root: string, options: LoadOptions = {}): Promise<SpecFile[]> {
  const skip = options.onSkip ?? (() => {});
  const files: SpecFile[] = [];
  // Synchronous on purpose: a tree is a few thousand small files, and one promise per stat and read
  // cost more than the reads themselves (it doubled `omoi spec validate` on 1,000 tasks).
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return null;
    }
  };
  const realRoot = real(root);
  if (realRoot === null) return files;
  const inside = (path: string) => path === realRoot || path.startsWith(realRoot + sep);
  const seenDirs = new Set<string>();
  const walk = (dir: string, prefix: string): void => {
    const realDir = real(dir);
    if (realDir === null || seenDirs.has(realDir)) return;
    seenDirs.add(realDir);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const abs = join(dir, entry.name);
      const path = `${prefix}/${entry.name}`;
      const markdown = entry.name.toLowerCase().endsWith('.md');
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = real(abs);
        if (target === null || !inside(target)) {
          if (markdown) skip(path, 'is a symlink that points outside the tree (or nowhere)');
          continue;
        }
        const info = statSync(abs, { throwIfNoEntry: false });
        isDir = info?.isDirectory() ?? false;
        isFile = info?.isFile() ?? false;
      }
      if (isDir) walk(abs, path);
      if (!isFile || !markdown) continue;
      try {
        const bytes = readLimited(abs);
        if (bytes === null) skip(path, `is larger than ${MAX_SPEC_FILE_BYTES / 1024 / 1024} MB`);
        else files.push({ path, content: asText(bytes) });
      } catch {
        skip(path, 'could not be read');
      }
    }
  };
  walk(join(root, SPEC_DIR), SPEC_DIR);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
