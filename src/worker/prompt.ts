// What the worker says to the agent: the task as a user turn, and a failed validation report as
// the next turn's input. The offline runtime reads the first back (src/agents/offline.ts).

import { formatIssueWithFix } from '../spec-format/issues.js';
import type { ValidationIssue, ValidationReport } from '../spec-format/types.js';
import type { WorkerTask } from './api-client.js';

/** The first user turn. `Ticket:` and `## Request` are read by the offline runtime; keep them. */
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
