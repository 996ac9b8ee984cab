// The text of what a ticket delivered (issue 13): one line per task (branch, changes, verification)
// for `omoi ticket show`, and the requirement trace for `omoi spec trace <ticket>`. The shapes and
// the words for a verification come from src/contracts/delivery.ts.
import {
  type ChangeStats,
  type TicketTrace,
  type Verification,
  verificationState as verificationWord,
} from '../../contracts/delivery.js';

/** `3 files +12 −4`, or null when the run recorded nothing. */
export function changesText(changes: ChangeStats | undefined): string | null {
  if (!changes) return null;
  return `${changes.files} file${changes.files === 1 ? '' : 's'} +${changes.insertions} −${changes.deletions}`;
}

/** The delivery line under a task of `omoi ticket show`, or null before its run recorded one. */
export function taskDeliveryLine(task: { result: unknown; branch: string | null }): string | null {
  const result = (task.result ?? null) as {
    branch?: string;
    commit?: string | null;
    changes?: ChangeStats;
    verification?: Verification;
    plan_only?: boolean;
  } | null;
  if (!result || typeof result !== 'object') return null;
  const parts: string[] = [];
  const branch = result.branch ?? task.branch;
  if (branch) parts.push(`branch ${branch}${result.commit ? `@${result.commit.slice(0, 12)}` : ''}`);
  const changes = changesText(result.changes);
  if (changes) parts.push(changes);
  if (result.plan_only) parts.push('plan only (no model)');
  else if ('verification' in result || 'commit' in result) {
    const v = result.verification;
    const word = verificationWord(v);
    parts.push(
      word === 'unverified'
        ? `unverified${v?.unverified ? ` (${v.unverified})` : ''}`
        : `${word}: ${v?.command}${v?.tests ? ` (${v.tests.passed} passed, ${v.tests.failed} failed)` : ''}`,
    );
  }
  return parts.length ? parts.join(' · ') : null;
}

/** The text of `omoi spec trace <ticket>`. */
export function renderTicketTrace(trace: TicketTrace): string {
  const lines = [`${trace.ref} requirements`];
  for (const r of trace.requirements) {
    lines.push(`  ${r.status.replace('_', ' ').padEnd(12)} ${r.id}  ${r.title}`);
    for (const t of r.tasks)
      lines.push(
        `      ${(t.spec_task_id ?? t.title).padEnd(16)} ${t.status.padEnd(10)} ${verificationWord(t.verification).padEnd(10)}` +
          `${t.branch ?? ''}${t.commits.length ? `  ${t.commits.map((c) => c.slice(0, 12)).join(' ')}` : ''}`,
      );
    if (r.tasks.length === 0) lines.push('      (no task covers it)');
  }
  if (trace.requirements.length === 0) lines.push('  (the ticket has no requirements document)');
  if (trace.integration) {
    const i = trace.integration;
    lines.push(
      `  integration  ${i.status} · ${verificationWord(i.verification)}${i.branch ? ` · ${i.branch}` : ''}` +
        `${i.commit ? `@${i.commit.slice(0, 12)}` : ''}`,
    );
  }
  if (trace.pull_request) lines.push(`  pull request ${trace.pull_request.state}: ${trace.pull_request.url}`);
  return `${lines.join('\n')}\n`;
}
