// What the worker says to the agent: the task as a user turn, a failed validation report, a merge
// conflict or a failed verification as a later turn's input. The same content goes to runtimes as
// data (`agentBrief`, TurnFeedback), so the offline runtime never parses these words.

import type { AgentBrief } from '../agents/runtime.js';
import { formatIssueWithFix } from '../spec-format/issues.js';
import type { ValidationReport } from '../spec-format/types.js';
import type { WorkerTask } from './api-client.js';

/** The request a runtime gets as data: what `buildUserPrompt` puts in words. */
export function agentBrief(task: WorkerTask, mode: 'exploration' | 'implementation'): AgentBrief {
  const ticket = task.ticket;
  const request =
    mode === 'implementation' && task.spec_task_id
      ? task.description
      : ticket?.description || task.description || task.title;
  return {
    taskId: task.id,
    ticketRef: ticket?.ref ?? null,
    title: ticket?.title ?? task.title,
    request: request.trim(),
    specTaskId: task.spec_task_id ?? null,
  };
}

/** The first user turn. */
export function buildUserPrompt(task: WorkerTask, mode: 'exploration' | 'implementation'): string {
  const ticket = task.ticket;
  const lines: string[] = [];
  if (ticket?.ref) lines.push(`Ticket: ${ticket.ref} — ${ticket.title ?? task.title}`);
  lines.push(`Task: ${task.id}`);
  lines.push('');
  lines.push(
    mode === 'exploration'
      ? 'Plan this request as a spec set under .omoi_os/ following the skill. Do not change code.'
      : 'Implement this task in the repository. Keep the change focused; the platform commits and pushes it.',
  );
  if (mode === 'exploration' && ticket?.ref) {
    const number = /(\d+)$/.exec(ticket.ref)?.[1];
    lines.push(
      `Ids must be unique in the project: put the ticket number in the feature word (e.g. FEATURE${number ?? ''}).`,
    );
  }
  // An approved spec task carries its own context (task spec, ticket, requirements, design) as its
  // description (src/core/approval.ts); other tasks do the ticket's request.
  if (mode === 'implementation' && task.spec_task_id) {
    lines.push(`Spec task: ${task.spec_task_id}`);
    lines.push('', '## Request', '', task.description.trim(), '');
    return lines.join('\n');
  }
  lines.push('', '## Request', '', (ticket?.description || task.description || task.title).trim(), '');
  return lines.join('\n');
}

/** The feedback turn after a failed validation: every error with file and line. */
export function buildFeedbackPrompt(report: ValidationReport, attempt: number, maxAttempts: number): string {
  const errors = report.issues.filter((i) => i.level === 'error');
  return [
    `Spec validation FAILED (attempt ${attempt} of ${maxAttempts}): ${report.summary.errors} errors, ${report.summary.warnings} warnings.`,
    'Fix every error below in the file and line it names, then stop. The validator decides.',
    '',
    ...errors.map((issue) => `- ${formatIssueWithFix(issue)}`),
    '',
  ].join('\n');
}

/** Conflict regions of a file (marker to marker), capped so a huge file cannot flood the turn. */
export function conflictHunks(text: string, max = 4000): string {
  const hunks = [...text.matchAll(/^<{7} [^\n]*\n[\s\S]*?^>{7} [^\n]*$/gm)].map((m) => m[0]);
  const joined = hunks.join('\n...\n');
  return joined.length > max ? `${joined.slice(0, max)}\n… (cut)` : joined;
}

/** The turn that resolves a merge conflict: which branch, which files, and their conflicting hunks. */
export function buildConflictPrompt(
  task: WorkerTask,
  branch: string,
  files: { path: string; hunks: string }[],
): string {
  return [
    `Task: ${task.id}`,
    ...(task.spec_task_id ? [`Spec task: ${task.spec_task_id}`] : []),
    '',
    `Merging ${branch} (a task this one depends on) into your branch conflicted in ${files.length} file(s).`,
    'Resolve every conflict: keep the intent of both sides, remove every conflict marker, then stop.',
    'The platform stages the files and concludes the merge; do not run git yourself.',
    '',
    ...files.flatMap((f) => [`## ${f.path}`, '', '```', f.hunks, '```', '']),
  ].join('\n');
}

/** The feedback turn after a failed verification: the command, its exit code and its output's tail. */
export function buildVerifyFeedbackPrompt(
  command: string,
  run: { exit_code: number | null; output_tail: string; timed_out: boolean },
  attempt: number,
  maxAttempts: number,
): string {
  const how = run.timed_out ? 'timed out' : `exited ${run.exit_code}`;
  return [
    `Verification FAILED (attempt ${attempt} of ${maxAttempts}): \`${command}\` ${how}.`,
    'Fix the code so that the command passes, then stop. The command decides.',
    '',
    '```',
    run.output_tail,
    '```',
    '',
  ].join('\n');
}
