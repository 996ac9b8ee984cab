// Branch names, built here and nowhere else. A spec run pushes `omoi/<ticket-ref>`; each approved
// task runs on `omoi/<ticket-ref>-<TSK-id>` (git stores refs as paths, so `omoi/TKT-001` and
// `omoi/TKT-001/…` cannot both exist: hence the dash). Tasks without a spec task (quick tickets,
// tasks made through the API) use the first eight characters of their id.

/** The prefix of every branch Omoi pushes. */
export const SPEC_BRANCH_PREFIX = 'omoi/';

/** The branch of a ticket's spec run, e.g. `omoi/TKT-001`. */
export function specBranch(ticketRef: string): string {
  return `omoi/${ticketRef}`;
}

/** The branch of one task of a ticket, e.g. `omoi/TKT-001-TSK-EXPORT-003`. */
export function taskBranch(ticketRef: string, taskKey: string): string {
  return `omoi/${ticketRef}-${taskKey}`;
}

/** The branch a claimed task works on when it has none stored. */
export function defaultBranch(task: {
  id: string;
  ticketRef: string | null;
  executionMode: 'exploration' | 'implementation';
}): string {
  const ref = task.ticketRef ?? `task-${task.id.slice(0, 8)}`;
  return task.executionMode === 'exploration' ? specBranch(ref) : taskBranch(ref, task.id.slice(0, 8));
}

/** The integration branch of a ticket: every task branch merged in dependency order, verified; the
 * pull request's head, e.g. `omoi/TKT-001-feature`. */
export function integrationBranch(ticketRef: string): string {
  return `omoi/${ticketRef}-feature`;
}
