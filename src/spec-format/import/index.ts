// `omoi spec import`: finds a Kiro, OpenSpec or Spec Kit source on disk, reads it, converts it with
// the pure importers beside this file and writes the `.omoi_os/` files. Also tells `spec validate`
// which foreign layout a folder without `.omoi_os/` has.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { ImportFormat, ImportOptions, ImportResult, SourceFolder } from './common.js';
import { importKiro } from './kiro.js';
import { importOpenSpec } from './openspec.js';
import { importSpecKit } from './speckit.js';

export { IMPORT_FORMATS, type ImportCounts, type ImportFormat, type ImportResult } from './common.js';
export { importKiro } from './kiro.js';
export { importOpenSpec } from './openspec.js';
export { importSpecKit } from './speckit.js';

const isDir = (path: string) => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
const isFile = (path: string) => statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
const subfolders = (path: string) =>
  readdirSync(path, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();

/** Markdown files under `dir` (recursively, at most `depth` levels), by relative path. */
function readMarkdown(dir: string, depth = 4): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (at: string, level: number) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const abs = join(at, entry.name);
      if (entry.isDirectory() && level < depth) walk(abs, level + 1);
      else if (entry.isFile() && entry.name.toLowerCase().endsWith('.md'))
        files[relative(dir, abs).split(sep).join('/')] = readFileSync(abs, 'utf8');
    }
  };
  walk(dir, 0);
  return files;
}

const KIRO_FILES = ['requirements.md', 'design.md', 'tasks.md'];
const SPECKIT_FILES = ['spec.md', 'plan.md', 'tasks.md'];

/** What a SOURCE argument holds for a format, or null when it is not that format. */
type Located =
  | { format: 'kiro' | 'speckit'; folders: string[] }
  | { format: 'openspec'; specs: { name: string; dir: string }[]; changes: string[] };

function locateKiro(source: string): Located | null {
  const specs = [join(source, '.kiro', 'specs'), source].find(
    (d) =>
      isDir(d) &&
      (basename(d) === 'specs' || d !== source) &&
      subfolders(d).some((f) => hasAny(join(d, f), KIRO_FILES)),
  );
  if (specs)
    return {
      format: 'kiro',
      folders: subfolders(specs)
        .filter((f) => hasAny(join(specs, f), KIRO_FILES))
        .map((f) => join(specs, f)),
    };
  if (hasAny(source, ['requirements.md']) || (hasAny(source, ['design.md']) && hasAny(source, ['tasks.md'])))
    return { format: 'kiro', folders: [source] };
  return null;
}

function hasAny(dir: string, names: string[]): boolean {
  return names.some((n) => isFile(join(dir, n)));
}

function locateOpenSpec(source: string): Located | null {
  const root = [join(source, 'openspec'), source].find(
    (d) => isDir(join(d, 'specs')) || isDir(join(d, 'changes')) || isFile(join(d, 'project.md')),
  );
  if (root && (isDir(join(root, 'specs')) || isDir(join(root, 'changes')))) {
    const specs: { name: string; dir: string }[] = [];
    const walk = (dir: string, name: string) => {
      if (isFile(join(dir, 'spec.md')) && name) specs.push({ name, dir });
      for (const sub of subfolders(dir)) walk(join(dir, sub), name ? `${name}/${sub}` : sub);
    };
    if (isDir(join(root, 'specs'))) walk(join(root, 'specs'), '');
    const changes = isDir(join(root, 'changes'))
      ? subfolders(join(root, 'changes'))
          .filter((c) => c !== 'archive')
          .map((c) => join(root, 'changes', c))
      : [];
    if (specs.length || changes.length) return { format: 'openspec', specs, changes };
  }
  // One capability folder holding a spec.md with `### Requirement:` blocks.
  const spec = join(source, 'spec.md');
  if (isFile(spec) && /^#{2,4}\s+Requirement\s*:/m.test(readFileSync(spec, 'utf8')))
    return { format: 'openspec', specs: [{ name: basename(source), dir: source }], changes: [] };
  return null;
}

function locateSpecKit(source: string): Located | null {
  for (const dir of [join(source, 'specs'), source]) {
    if (!isDir(dir)) continue;
    const features = subfolders(dir).filter((f) => hasAny(join(dir, f), ['spec.md']));
    if (features.length) return { format: 'speckit', folders: features.map((f) => join(dir, f)) };
  }
  if (
    hasAny(source, ['spec.md']) &&
    !/^#{2,4}\s+Requirement\s*:/m.test(readFileSync(join(source, 'spec.md'), 'utf8'))
  )
    return { format: 'speckit', folders: [source] };
  return null;
}

function locate(format: ImportFormat, source: string): Located | null {
  if (!isDir(source)) return null;
  return format === 'kiro'
    ? locateKiro(source)
    : format === 'openspec'
      ? locateOpenSpec(source)
      : locateSpecKit(source);
}

/** What each format's SOURCE looks like, for usage errors. */
export const SOURCE_SHAPES: Record<ImportFormat, string> = {
  kiro: 'a folder with .kiro/specs/<feature>/{requirements,design,tasks}.md, .kiro/specs itself, or one feature folder',
  openspec:
    'a folder with openspec/specs/<capability>/spec.md (or openspec/changes/<id>/), openspec itself, or one capability folder',
  speckit: 'a folder with specs/<NNN-feature>/spec.md, specs itself, or one feature folder',
};

/**
 * Converts SOURCE to `.omoi_os/` files without writing anything. Null when SOURCE is not of the
 * format (a usage error for the CLI).
 */
export function convertSource(
  format: ImportFormat,
  source: string,
  options: ImportOptions = {},
): ImportResult | null {
  const found = locate(format, source);
  if (!found) return null;
  if (found.format === 'openspec') {
    const specs: SourceFolder[] = found.specs.map((s) => ({
      name: s.name.replace(/\//g, '-'),
      files: { 'spec.md': readFileSync(join(s.dir, 'spec.md'), 'utf8') },
    }));
    const changes: SourceFolder[] = found.changes.map((dir) => ({
      name: basename(dir),
      files: readMarkdown(dir),
    }));
    return importOpenSpec({ specs, changes }, options);
  }
  const names = found.format === 'kiro' ? KIRO_FILES : SPECKIT_FILES;
  const folders: SourceFolder[] = found.folders.map((dir) => ({
    name: basename(dir),
    files: Object.fromEntries(
      names.filter((n) => isFile(join(dir, n))).map((n) => [n, readFileSync(join(dir, n), 'utf8')]),
    ),
  }));
  return found.format === 'kiro' ? importKiro(folders, options) : importSpecKit(folders, options);
}

/**
 * Writes converted files under `into`. Refuses (writes nothing, returns the paths) when a file
 * already exists with other content, so an import never overwrites a tree.
 */
export function writeImport(into: string, result: ImportResult): { written: string[]; conflicts: string[] } {
  const conflicts = result.files
    .filter((f) => existsSync(join(into, f.path)) && readFileSync(join(into, f.path), 'utf8') !== f.content)
    .map((f) => f.path);
  if (conflicts.length) return { written: [], conflicts };
  for (const file of result.files) {
    mkdirSync(dirname(join(into, file.path)), { recursive: true });
    writeFileSync(join(into, file.path), file.content);
  }
  return { written: result.files.map((f) => f.path), conflicts: [] };
}

/**
 * The foreign spec layout a folder without `.omoi_os/` holds, if any, with the command that
 * imports it.
 *
 * @example
 * detectForeignLayout('/repo'); // { format: 'kiro', path: '.kiro/specs', command: 'omoi spec import kiro /repo' }
 */
export function detectForeignLayout(
  root: string,
): { format: ImportFormat; path: string; command: string } | null {
  const command = (format: ImportFormat) => `omoi spec import ${format} ${root}`;
  try {
    if (isDir(join(root, '.kiro', 'specs')) && locateKiro(root))
      return { format: 'kiro', path: '.kiro/specs', command: command('kiro') };
    if (isDir(join(root, 'openspec')) && locateOpenSpec(root))
      return { format: 'openspec', path: 'openspec', command: command('openspec') };
    if (isDir(join(root, 'specs')) && locateSpecKit(root))
      return { format: 'speckit', path: 'specs', command: command('speckit') };
  } catch {
    // An unreadable folder is simply not a foreign layout.
  }
  return null;
}
