import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';

/** A path the model asked for that points outside the workspace, or is otherwise not allowed. */
export class PathRefusedError extends Error {
  constructor(requested: string, reason: string) {
    super(`Refused path "${requested}": ${reason}`);
    this.name = 'PathRefusedError';
  }
}

/**
 * Resolves a path the model gave (relative to the workspace) to an absolute path that is
 * guaranteed to stay inside the workspace, also after following symlinks. Absolute paths, `..`
 * escapes, paths into `.git` and symlinks that lead out are refused with a PathRefusedError.
 * A path that does not exist yet (a file about to be written) is checked through its nearest
 * existing ancestor, so a symlinked directory cannot smuggle a new file out either.
 *
 * @example
 * await resolveInWorkspace('/work/ws', '.omoi_os/requirements/auth.md'); // '/work/ws/.omoi_os/requirements/auth.md'
 * await resolveInWorkspace('/work/ws', '../etc/passwd');                  // throws PathRefusedError
 */
export async function resolveInWorkspace(workspace: string, requested: string): Promise<string> {
  if (typeof requested !== 'string' || requested.trim() === '') {
    throw new PathRefusedError(String(requested), 'a path is required');
  }
  if (requested.includes('\0')) throw new PathRefusedError(requested, 'contains a NUL byte');
  if (path.isAbsolute(requested) || /^[a-zA-Z]:[\\/]/.test(requested) || requested.startsWith('~')) {
    throw new PathRefusedError(
      requested,
      'absolute paths are not allowed; use a path relative to the workspace',
    );
  }
  const root = path.resolve(workspace);
  const target = path.resolve(root, requested);
  const relative = path.relative(root, target);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new PathRefusedError(requested, 'it leads outside the workspace');
  }
  if (relative.split(path.sep)[0] === '.git') {
    throw new PathRefusedError(requested, 'the .git folder is managed by the platform');
  }

  const realRoot = await realpath(root);
  const existing = await nearestExisting(target, root);
  const realExisting = await realpath(existing).catch(() => {
    throw new PathRefusedError(requested, 'it goes through a dangling symlink');
  });
  if (!isInside(realRoot, realExisting)) {
    throw new PathRefusedError(requested, 'it follows a symlink out of the workspace');
  }
  // A symlink to .git (or into it) is .git: the check by name above does not see through it.
  if (inGitFolder(realRoot, realExisting)) {
    throw new PathRefusedError(requested, 'it leads into the .git folder, which is managed by the platform');
  }
  // A dangling symlink at the target itself would be followed by a write: refuse it too.
  if (existing !== target) return target;
  const stat = await lstat(target);
  if (stat.isSymbolicLink()) {
    const real = await realpath(target);
    if (!isInside(realRoot, real))
      throw new PathRefusedError(requested, 'it follows a symlink out of the workspace');
    if (inGitFolder(realRoot, real))
      throw new PathRefusedError(
        requested,
        'it leads into the .git folder, which is managed by the platform',
      );
  }
  return target;
}

/** Workspace-relative form of an absolute path inside the workspace, with forward slashes. */
export function toWorkspaceRelative(workspace: string, absolute: string): string {
  const relative = path.relative(path.resolve(workspace), absolute);
  return relative === '' ? '.' : relative.split(path.sep).join('/');
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** True when `candidate` (a real path inside `root`) is the .git folder or inside it. */
function inGitFolder(root: string, candidate: string): boolean {
  return path.relative(root, candidate).split(path.sep)[0] === '.git';
}

/** The closest existing path at or above `target` (a dangling symlink counts as existing). */
async function nearestExisting(target: string, root: string): Promise<string> {
  let current = target;
  for (;;) {
    try {
      await lstat(current);
      return current;
    } catch {
      if (current === root) return root;
      current = path.dirname(current);
    }
  }
}
