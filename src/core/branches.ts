// The branch a task's worker works on, named in one place: the orchestrator gives it to the sandbox
// (WORK_BRANCH) and the git broker lets that task's token push to it and nothing else.

/**
 * A task's work branch: its own `branch` when set (approved spec tasks), `omoi/<ticket-ref>` for a
 * spec run, else `omoi/<ticket-ref>-<first 8 of the task id>`.
 *
 * @example
 * workBranch({ branch: null, executionMode: 'exploration', ticketRef: 'TKT-001', taskId }); // 'omoi/TKT-001'
 */
export function workBranch(task: {
  branch: string | null;
  executionMode: string;
  ticketRef: string | null;
  taskId: string;
}): string {
  if (task.branch) return task.branch;
  const ref = task.ticketRef ?? `task-${task.taskId.slice(0, 8)}`;
  return task.executionMode === 'exploration' ? `omoi/${ref}` : `omoi/${ref}-${task.taskId.slice(0, 8)}`;
}
