// Where the specs are when a folder has no `.omoi_os/`: a spec run writes its tree on a branch
// (`omoi/TKT-001`), so `omoi spec show` in the main checkout finds nothing. This names the local
// branches whose tree has `.omoi_os/` (git for-each-ref + git ls-tree), or says how to start one.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SPEC_BRANCH_PREFIX } from '../contracts/branches.js';

const run = promisify(execFile);

async function git(cwd: string, ...args: string[]): Promise<string | null> {
  try {
    return (await run('git', ['-C', cwd, ...args], { maxBuffer: 4 * 1024 * 1024 })).stdout;
  } catch {
    return null;
  }
}

/** Local branches under `omoi/` whose tree holds `.omoi_os/`, newest commit first (at most `limit`). */
export async function specBranches(dir: string, limit = 20): Promise<string[]> {
  const refs = await git(
    dir,
    'for-each-ref',
    '--sort=-committerdate',
    '--format=%(refname:short)',
    `refs/heads/${SPEC_BRANCH_PREFIX}`,
  );
  if (!refs) return [];
  const found: string[] = [];
  for (const branch of refs.split('\n').filter(Boolean)) {
    const tree = await git(dir, 'ls-tree', '--name-only', branch, '.omoi_os');
    if (tree?.trim()) found.push(branch);
    if (found.length >= limit) break;
  }
  return found;
}

/** The lines to print when `dir` has no `.omoi_os/`: the branches that have one, or how to start one. */
export async function specWhereabouts(dir: string): Promise<string> {
  const inRepo = (await git(dir, 'rev-parse', '--is-inside-work-tree'))?.trim() === 'true';
  const branches = inRepo ? await specBranches(dir) : [];
  if (branches.length > 0) {
    const first = branches[0]!;
    return [
      `no .omoi_os/ in ${dir}; specs are on ${branches.length === 1 ? 'this branch' : 'these branches'}:`,
      ...branches.map((b) => `  ${b}`),
      `read one with: git worktree add ../${first.replace(/\//g, '-')} ${first} && omoi spec show ../${first.replace(/\//g, '-')}`,
      `  (or: git switch ${first} && omoi spec show)`,
    ].join('\n');
  }
  return [
    `no .omoi_os/ in ${dir}${inRepo ? ' and no omoi/* branch with one' : ''}. To start a spec:`,
    '  omoi ticket create "<what to build>" --project <name> --mode spec_driven   (an agent writes it on omoi/TKT-…)',
    '  omoi spec import kiro|openspec|speckit <SOURCE>                            (from another tool)',
  ].join('\n');
}
