// The delivery contract (issue 13): what an implementation or integration run proves and what the
// API shows of it. The worker builds these values (src/worker/), the orchestrator stores them as the
// task's `result`, the server derives the trace, the diff and the pull request from them, and the
// CLI and web read them. One field added to a run's evidence is one change here.
import { z } from '@hono/zod-openapi';

/** The task_type of the one task per approved ticket that merges every task branch (src/core/approval.ts). */
export const INTEGRATION_TASK_TYPE = 'integration';

/** `settings.pull_request` of a project: where the integration branch becomes one pull request. */
export const PullRequestSettings = z
  .strictObject({
    provider: z.enum(['github', 'gitlab']),
    /** `owner/name` (GitHub) or the project path `group/sub/name` (GitLab). */
    repository: z
      .string()
      .min(3)
      .max(300)
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/, 'owner/name'),
    /** GitHub Enterprise or self-hosted GitLab; default the public service's API. */
    api_url: z.url().max(2000).optional(),
  })
  .openapi('PullRequestSettings');
export type PullRequestSettings = z.infer<typeof PullRequestSettings>;

/** Test counts, when the verify command's runner prints them (vitest, jest, pytest, go test, cargo). */
export const TestCounts = z
  .object({
    passed: z.number().int().min(0),
    failed: z.number().int().min(0),
    skipped: z.number().int().min(0).optional(),
  })
  .openapi('TestCounts');
export type TestCounts = z.infer<typeof TestCounts>;

/**
 * The evidence of one run's verification. `passed: true` only from a command that exited 0;
 * `unverified` names why nothing ran (no command configured or detected).
 */
export const Verification = z
  .object({
    /** The command that ran (`npm test`), or null when verification was skipped. */
    command: z.string().nullable(),
    /** Where the command came from: the project's settings, detected from the repository, or none. */
    source: z.enum(['settings', 'detected', 'none']),
    exit_code: z.number().int().nullable(),
    passed: z.boolean(),
    /** Set when nothing ran: the reason shown as "unverified". */
    unverified: z.string().optional(),
    duration_ms: z.number().int().min(0),
    /** The commit that was verified (the pushed one). */
    commit: z.string().nullable(),
    attempts: z.number().int().min(0),
    /** The last lines of the command's output (capped, secrets redacted). */
    output_tail: z.string(),
    timed_out: z.boolean().optional(),
    tests: TestCounts.optional(),
  })
  .openapi('Verification');
export type Verification = z.infer<typeof Verification>;

/**
 * How every view names a verification: it ran and passed, ran and failed, or did not run
 * ("unverified": no command configured or detected, or no evidence at all).
 */
export function verificationState(v: Verification | null | undefined): 'verified' | 'failing' | 'unverified' {
  // The words of the trace and the web UI: one vocabulary wherever evidence is shown.
  if (!v || v.unverified || v.command === null) return 'unverified';
  return v.passed ? 'verified' : 'failing';
}

/** What a run changed against the point it started from (its base with dependencies merged in). */
export const ChangeStats = z
  .object({
    files: z.number().int().min(0),
    insertions: z.number().int().min(0),
    deletions: z.number().int().min(0),
  })
  .openapi('ChangeStats');
export type ChangeStats = z.infer<typeof ChangeStats>;

/** A branch merged into a run's workspace before the agent's turn, in dependency order. */
export const MergedBranch = z
  .object({
    branch: z.string(),
    commit: z.string(),
    /** Files that conflicted and were resolved by the agent (empty for a clean merge). */
    conflicts: z.array(z.string()),
  })
  .openapi('MergedBranch');
export type MergedBranch = z.infer<typeof MergedBranch>;

/**
 * The result of an implementation or integration run, as `GET /api/v1/tasks/:id` returns it in
 * `result` (spec runs keep their own fields: attempts, synced).
 */
export const DeliveryResult = z
  .object({
    ok: z.boolean(),
    branch: z.string(),
    /** The pushed commit (carries the Omoi-Task / Omoi-Requirements trailers). */
    commit: z.string().nullable(),
    /** The commit the agent started from: the base branch with the dependencies merged in. */
    base_commit: z.string().nullable().optional(),
    merged: z.array(MergedBranch).optional(),
    changes: ChangeStats.optional(),
    verification: Verification.optional(),
    /** The offline runtime cannot write code: the run wrote its plan only and is not done. */
    plan_only: z.boolean().optional(),
    /** The spec task and the requirement ids its commits carry as trailers. */
    spec_task_id: z.string().nullable().optional(),
    requirements: z.array(z.string()).optional(),
  })
  .openapi('DeliveryResult');
export type DeliveryResult = z.infer<typeof DeliveryResult>;

/** A branch a run merges before it starts: a dependency's task branch (or, for integration, every task's). */
export const MergeSource = z
  .object({
    task_id: z.string(),
    spec_task_id: z.string().nullable(),
    branch: z.string(),
  })
  .openapi('MergeSource');
export type MergeSource = z.infer<typeof MergeSource>;

/**
 * What a worker needs to deliver a task, in `GET /api/v1/tasks/:id` as `delivery` (null for spec
 * runs): the branches to merge in dependency order, the verify command (null: the worker detects
 * one from the repository), and the requirement ids for the commit trailers.
 */
export const DeliveryBrief = z
  .object({
    kind: z.enum(['task', 'integration']),
    merge: z.array(MergeSource),
    verify_command: z.string().nullable(),
    spec_task_id: z.string().nullable(),
    requirements: z.array(z.string()),
  })
  .openapi('DeliveryBrief');
export type DeliveryBrief = z.infer<typeof DeliveryBrief>;

/** A ticket's pull request, once the integration step opened (or updated) it. */
export const PullRequest = z
  .object({
    provider: z.enum(['github', 'gitlab']),
    url: z.string(),
    number: z.number().int(),
    state: z.enum(['open', 'merged', 'closed']),
    head: z.string(),
    base: z.string(),
    updated_at: z.string(),
  })
  .openapi('PullRequest');
export type PullRequest = z.infer<typeof PullRequest>;

export const TRACE_STATUSES = ['verified', 'unverified', 'failing', 'not_started'] as const;
export type TraceStatus = (typeof TRACE_STATUSES)[number];

/** GET /api/v1/tickets/:id/trace: per requirement item, the tasks that cover it and their evidence. */
export const TicketTrace = z
  .object({
    ticket_id: z.string(),
    ref: z.string(),
    requirements: z.array(
      z.object({
        id: z.string(),
        title: z.string(),
        status: z.enum(TRACE_STATUSES),
        tasks: z.array(
          z.object({
            task_id: z.string(),
            spec_task_id: z.string().nullable(),
            title: z.string(),
            status: z.string(),
            branch: z.string().nullable(),
            commits: z.array(z.string()),
            verification: Verification.nullable(),
          }),
        ),
      }),
    ),
    integration: z
      .object({
        task_id: z.string(),
        status: z.string(),
        branch: z.string().nullable(),
        commit: z.string().nullable(),
        verification: Verification.nullable(),
      })
      .nullable(),
    pull_request: PullRequest.nullable(),
  })
  .openapi('TicketTrace');
export type TicketTrace = z.infer<typeof TicketTrace>;

/** GET /api/v1/tasks/:id/diff: what a task's branch changed against where it started. */
export const TaskDiff = z
  .object({
    task_id: z.string(),
    branch: z.string(),
    base: z.string(),
    head: z.string(),
    files: z.array(
      z.object({
        path: z.string(),
        status: z.enum(['added', 'modified', 'deleted', 'renamed', 'other']),
        insertions: z.number().int(),
        deletions: z.number().int(),
        binary: z.boolean(),
      }),
    ),
    /** The unified diff, capped; `truncated` says when it was cut. */
    patch: z.string(),
    truncated: z.boolean(),
  })
  .openapi('TaskDiff');
export type TaskDiff = z.infer<typeof TaskDiff>;

/** The commit trailers every delivery commit carries (`git interpret-trailers` format). */
export function deliveryTrailers(specTaskId: string | null, taskId: string, requirements: string[]): string {
  const lines = [`Omoi-Task: ${specTaskId ?? taskId}`];
  if (requirements.length > 0) lines.push(`Omoi-Requirements: ${requirements.join(', ')}`);
  return lines.join('\n');
}
