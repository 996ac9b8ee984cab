import type { Dirent } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { SPEC_DIR } from './format.js';
import type { SpecFile } from './types.js';

/** Files larger than this are not read (a spec file is a page of Markdown, not a data dump). */
export const MAX_SPEC_FILE_BYTES = 16 * 1024 * 1024;

export interface LoadOptions {
  /** Called for each Markdown file that was not read, with the reason (a symlink out of the tree, …). */
  onSkip?: (path: string, reason: string) => void;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 text as a string (byte-order mark kept, so hashes match the bytes); anything else as bytes. */
function asText(bytes: Uint8Array): string | Uint8Array {
  try {
    return utf8.decode(bytes);
  } catch {
    return bytes;
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
  const realRoot = await realpath(root).catch(() => null);
  if (realRoot === null) return files;
  const inside = (real: string) => real === realRoot || real.startsWith(realRoot + sep);
  const seenDirs = new Set<string>();
  const toPath = (abs: string) => relative(root, abs).split(sep).join('/');

  const walk = async (dir: string): Promise<void> => {
    const realDir = await realpath(dir).catch(() => null);
    if (realDir === null || seenDirs.has(realDir)) return;
    seenDirs.add(realDir);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    await Promise.all(
      entries.map(async (entry) => {
        const abs = join(dir, entry.name);
        const path = toPath(abs);
        const markdown = entry.name.toLowerCase().endsWith('.md');
        let isDir = entry.isDirectory();
        let isFile = entry.isFile();
        if (entry.isSymbolicLink()) {
          const target = await realpath(abs).catch(() => null);
          if (target === null || !inside(target)) {
            if (markdown) skip(path, 'is a symlink that points outside the tree (or nowhere)');
            return;
          }
          const info = await stat(abs).catch(() => null);
          isDir = info?.isDirectory() ?? false;
          isFile = info?.isFile() ?? false;
        }
        if (isDir) return walk(abs);
        if (!isFile || !markdown) return;
        try {
          const info = await stat(abs);
          if (info.size > MAX_SPEC_FILE_BYTES) {
            skip(path, `is larger than ${MAX_SPEC_FILE_BYTES / 1024 / 1024} MB`);
            return;
          }
          files.push({ path, content: asText(await readFile(abs)) });
        } catch {
          skip(path, 'could not be read');
        }
      }),
    );
  };
  await walk(join(root, SPEC_DIR));
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
