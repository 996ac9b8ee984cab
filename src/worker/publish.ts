// The last step of every run that produced something: commit what is left, push the work branch.
import { commitAll, pushBranch } from '../git/git.js';
import { authEnv, message, type RunContext } from './context.js';

export type Published = { ok: true; branch: string; commit: string } | { ok: false; error: string };

/** Commits `paths` (everything when empty) with `trailers`, pushes WORK_BRANCH, emits `git.pushed`. */
export async function publish(
  ctx: Pick<RunContext, 'config' | 'workspace' | 'emit' | 'log'>,
  commitMessage: string,
  options: { paths?: string[]; trailers?: string } = {},
): Promise<Published> {
  const branch = ctx.config.WORK_BRANCH;
  try {
    const { commit, committed } = await commitAll({
      cwd: ctx.workspace,
      message: commitMessage,
      paths: options.paths ?? [],
      ...(options.trailers ? { trailers: options.trailers } : {}),
    });
    if (commit === null) return { ok: false, error: 'nothing to commit on an empty branch' };
    await pushBranch({ cwd: ctx.workspace, branch, authEnv: authEnv(ctx.config) });
    ctx.log(`pushed ${branch} at ${commit}${committed ? '' : ' (no new changes)'}`);
    await ctx.emit('git.pushed', { branch, commit, committed });
    return { ok: true, branch, commit };
  } catch (error) {
    return { ok: false, error: `git push failed: ${message(error)}` };
  }
}
