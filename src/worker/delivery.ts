// Delivery (issue 13): an implementation run merges its dependencies' branches, lets the agent
// work, verifies with the project's command and feeds failures back, then pushes one commit whose
// trailers name the spec task and its requirements. An integration run merges every task branch
// and verifies, with an agent turn only for a conflict. The outcome is the evidence.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redact } from '../base/redact.js';
import {
  type ChangeStats,
  type DeliveryBrief,
  deliveryTrailers,
  type MergedBranch,
  type Verification,
} from '../contracts/delivery.js';
import type { DeliveryEvidence, WorkerOutcome } from '../contracts/worker-outcome.js';
import {
  changeStats,
  commitAll,
  fetchBranch,
  git,
  hasConflictMarkers,
  headCommit,
  mergeRef,
  unmergedPaths,
} from '../git/git.js';
import { authEnv, message, type RunContext, type TurnResult } from './context.js';
import { buildConflictPrompt, buildUserPrompt, buildVerifyFeedbackPrompt, conflictHunks } from './prompt.js';
import { publish } from './publish.js';
import { recordClarifications } from './questions.js';
import { parseTestCounts, resolveVerifyCommand, runVerifyCommand, verifyEnv } from './verify.js';

export const PLAN_ONLY_ERROR = 'plan only (no model): the offline runtime cannot write code';
export const UNVERIFIED = 'no verify command configured or detected';

/** The brief of a server that sends none: nothing to merge, a detected command, no requirements. */
function briefOf(ctx: RunContext): DeliveryBrief {
  return (
    ctx.task.delivery ?? {
      kind: 'task',
      merge: [],
      verify_command: null,
      spec_task_id: ctx.task.spec_task_id ?? null,
      requirements: [],
    }
  );
}

type Step<T> = ({ ok: true } & T) | { ok: false; error: string };

/** Why a turn's end stops the run (any failure, running out of turns included), or null. */
function stopReason(result: TurnResult, signal: AbortSignal): string | null {
  if (signal.aborted || result.error === 'cancelled') return 'cancelled';
  if (!result.ok) return `agent stopped: ${result.error ?? 'unknown reason'}`;
  return null;
}

/**
 * The conflicted merge of `branch`, resolved by the agent: its turn gets the files and hunks; after
 * it no file may keep a conflict marker, and the merge is concluded with the trailers.
 */
async function resolveConflict(
  ctx: RunContext,
  branch: string,
  files: string[],
  mergeMessage: string,
  trailers: string,
): Promise<Step<object>> {
  const named = files.join(', ');
  if (ctx.runtime.writesCode === false) {
    await git(['merge', '--abort'], { cwd: ctx.workspace }).catch(() => {});
    return {
      ok: false,
      error: `merge conflict merging ${branch} in ${named}: the ${ctx.runtime.label} runtime cannot resolve conflicts`,
    };
  }
  ctx.log(`merging ${branch} conflicted in ${named}; the agent resolves it`);
  const read = (path: string) => readFile(join(ctx.workspace, path), 'utf8').catch(() => null);
  const hunks = await Promise.all(
    files.map(async (path) => ({ path, hunks: conflictHunks((await read(path)) ?? '') })),
  );
  const result = await ctx.turn(buildConflictPrompt(ctx.task, branch, hunks), {
    kind: 'conflict',
    branch,
    files,
  });
  const stop = stopReason(result, ctx.signal);
  if (stop) return { ok: false, error: stop };
  const left: string[] = [];
  for (const path of files) {
    const text = await read(path);
    if (text !== null && hasConflictMarkers(text)) left.push(path);
  }
  if (left.length > 0)
    return {
      ok: false,
      error: `unresolved merge conflict merging ${branch}: conflict markers remain in ${left.join(', ')}`,
    };
  await commitAll({ cwd: ctx.workspace, message: mergeMessage, trailers });
  const unmerged = await unmergedPaths(ctx.workspace);
  if (unmerged.length > 0)
    return { ok: false, error: `unresolved merge conflict merging ${branch} in ${unmerged.join(', ')}` };
  return { ok: true };
}

/** Fetches and merges every branch of the brief, in order, with a merge commit each (`git.merged`). */
async function mergeDependencies(
  ctx: RunContext,
  brief: DeliveryBrief,
  trailers: string,
  merged: MergedBranch[],
): Promise<Step<object>> {
  for (const source of brief.merge) {
    const name = source.spec_task_id ?? source.task_id;
    let tip: string;
    try {
      tip = await fetchBranch({ cwd: ctx.workspace, branch: source.branch, authEnv: authEnv(ctx.config) });
    } catch (error) {
      return { ok: false, error: `cannot fetch ${source.branch} (the branch of ${name}): ${message(error)}` };
    }
    const mergeMessage = `Merge ${source.branch} (${name})`;
    let outcome: Awaited<ReturnType<typeof mergeRef>>;
    try {
      outcome = await mergeRef({
        cwd: ctx.workspace,
        ref: `refs/remotes/origin/${source.branch}`,
        message: mergeMessage,
        trailers,
      });
    } catch (error) {
      return { ok: false, error: `merging ${source.branch} failed: ${message(error)}` };
    }
    const conflicts = outcome.ok ? [] : outcome.conflicts;
    if (!outcome.ok) {
      const resolved = await resolveConflict(ctx, source.branch, conflicts, mergeMessage, trailers);
      if (!resolved.ok) return resolved;
    }
    merged.push({ branch: source.branch, commit: tip, conflicts });
    ctx.log(
      `merged ${source.branch} at ${tip}${conflicts.length ? ` (resolved ${conflicts.join(', ')})` : ''}`,
    );
    await ctx.emit('git.merged', {
      branch: source.branch,
      commit: tip,
      conflicts,
      ...(conflicts.length ? { resolved: true } : {}),
    });
  }
  return { ok: true };
}

interface Verified {
  commit: string | null;
  changes: ChangeStats;
  verification: Verification;
}

/**
 * Commit, verify, and on a failure give the output back to the agent, up to VERIFY_MAX_ATTEMPTS
 * (one attempt for an integration run, which has no agent turn of its own).
 */
async function verifyLoop(
  ctx: RunContext,
  brief: DeliveryBrief,
  trailers: string,
  base: string | null,
): Promise<Step<Verified>> {
  const { config, workspace } = ctx;
  const found = await resolveVerifyCommand(workspace, brief.verify_command);
  const canFix = brief.kind === 'task' && ctx.runtime.writesCode !== false;
  const maxAttempts = found && canFix ? config.VERIFY_MAX_ATTEMPTS : 1;
  let last: Verified | null = null;
  let duration = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    if (attempt > 1 && last && found) {
      const prompt = buildVerifyFeedbackPrompt(
        found.command,
        {
          exit_code: last.verification.exit_code,
          output_tail: last.verification.output_tail,
          timed_out: last.verification.timed_out === true,
        },
        attempt - 1,
        maxAttempts,
      );
      const stop = stopReason(
        await ctx.turn(prompt, {
          kind: 'verify',
          command: found.command,
          exit_code: last.verification.exit_code,
          output_tail: last.verification.output_tail,
        }),
        ctx.signal,
      );
      if (stop) return { ok: false, error: stop };
    }
    const title =
      attempt === 1 ? `feat: ${ctx.task.title}` : `fix: ${ctx.task.title} (verification attempt ${attempt})`;
    const { commit } = await commitAll({
      cwd: workspace,
      message: brief.kind === 'integration' ? `Integrate ${config.WORK_BRANCH}` : title,
      trailers,
    });
    const changes =
      commit === null
        ? { files: 0, insertions: 0, deletions: 0 }
        : await changeStats(workspace, base, commit);
    if (brief.kind === 'task' && (commit === base || changes.files === 0))
      return { ok: false, error: 'no changes: the agent changed nothing in the repository' };
    if (!found) {
      const verification: Verification = {
        command: null,
        source: 'none',
        exit_code: null,
        passed: false,
        unverified: UNVERIFIED,
        duration_ms: 0,
        commit,
        attempts: 0,
        output_tail: '',
      };
      ctx.log(`verification skipped: ${UNVERIFIED}`);
      await ctx.emit('verify.result', {
        command: null,
        attempt: 1,
        max_attempts: 1,
        passed: false,
        exit_code: null,
        duration_ms: 0,
        output_tail: '',
        unverified: UNVERIFIED,
      });
      return { ok: true, commit, changes, verification };
    }
    const run = await runVerifyCommand(found.command, {
      cwd: workspace,
      timeoutMs: config.VERIFY_TIMEOUT_MS,
      env: verifyEnv(process.env),
      signal: ctx.signal,
    });
    duration += run.duration_ms;
    const output = redact(run.output_tail);
    const tests = parseTestCounts(output);
    const passed = run.exit_code === 0;
    ctx.log(
      `verification ${passed ? 'PASSED' : 'FAILED'} (attempt ${attempt} of ${maxAttempts}): ${found.command} ${run.timed_out ? 'timed out' : `exited ${run.exit_code}`}`,
    );
    await ctx.emit('verify.result', {
      command: found.command,
      attempt,
      max_attempts: maxAttempts,
      passed,
      exit_code: run.exit_code,
      duration_ms: run.duration_ms,
      output_tail: output,
      ...(tests ? { tests } : {}),
    });
    last = {
      commit,
      changes,
      verification: {
        command: found.command,
        source: found.source,
        exit_code: run.exit_code,
        passed,
        duration_ms: duration,
        commit,
        attempts: attempt,
        output_tail: output,
        ...(run.timed_out ? { timed_out: true } : {}),
        ...(tests ? { tests } : {}),
      },
    };
    if (passed || ctx.signal.aborted) break;
  }
  return { ok: true, ...last! };
}

/** Why a verification that ran did not pass, or null. */
function verificationFailure(v: Verification): string | null {
  if (v.passed || v.command === null) return null;
  const how = v.timed_out ? 'timed out' : `exited ${v.exit_code}`;
  return `verification failed: ${v.command} ${how} after ${v.attempts} attempt${v.attempts === 1 ? '' : 's'}`;
}

/**
 * The delivery loop of an implementation or integration run: merge, agent turn (tasks only; the
 * offline runtime ends here with its plan), verify with feedback, push, and the evidence as outcome.
 */
export async function deliver(ctx: RunContext): Promise<WorkerOutcome> {
  const brief = briefOf(ctx);
  const branch = ctx.config.WORK_BRANCH;
  const trailers = deliveryTrailers(brief.spec_task_id, ctx.task.id, brief.requirements);
  const merged: MergedBranch[] = [];
  const evidence: Partial<DeliveryEvidence> & { branch: string } = {
    branch,
    merged,
    spec_task_id: brief.spec_task_id,
    requirements: brief.requirements,
  };

  // A task's change is what it added on top of its merged dependencies; an integration run's is
  // everything its merges brought (what its pull request shows), so it counts from before them.
  const start = brief.kind === 'integration' ? await headCommit(ctx.workspace) : null;
  const merging = await mergeDependencies(ctx, brief, trailers, merged);
  if (!merging.ok) return ctx.fail(merging.error, { ...evidence, commit: null });
  // A resumed task's change includes the work committed before its question.
  const base =
    brief.kind === 'integration'
      ? start
      : ctx.resumeBase !== undefined
        ? ctx.resumeBase
        : await headCommit(ctx.workspace);
  evidence.base_commit = base;
  if (brief.kind === 'integration') {
    // What the tasks' agents were told by a person goes into the spec, with the integration commit.
    const recorded = await recordClarifications(ctx.workspace, ctx.task.clarifications ?? [], {
      ref: ctx.task.ticket?.ref ?? null,
      requirements: brief.requirements,
    });
    if (recorded) ctx.log(`clarifications recorded in ${recorded}`);
  }

  if (brief.kind === 'task') {
    const result = await ctx.turn(buildUserPrompt(ctx.task, 'implementation'));
    if (ctx.runtime.writesCode === false)
      return ctx.fail(PLAN_ONLY_ERROR, { ...evidence, commit: null, plan_only: true });
    const stop = stopReason(result, ctx.signal);
    if (stop) return ctx.fail(stop, { ...evidence, commit: null });
  }

  const verified = await verifyLoop(ctx, brief, trailers, base);
  if (!verified.ok) return ctx.fail(verified.error, { ...evidence, commit: null });
  const done = { ...evidence, changes: verified.changes, verification: verified.verification };
  // Pushed even when verification failed: the branch is the evidence a person (or a retry) reads.
  const pushed = await publish(ctx, 'feat: nothing left to commit', { trailers });
  if (!pushed.ok) return ctx.fail(pushed.error, { ...done, commit: verified.commit });
  const failure = verificationFailure(verified.verification);
  if (failure) return ctx.fail(failure, { ...done, commit: pushed.commit });
  return { ok: true, ...done, commit: pushed.commit };
}
