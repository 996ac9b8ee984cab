// The closed vocabularies of the API (statuses, modes, priorities): plain constants, no zod, so the
// web UI imports them as values without bundling a schema library.

export const PRIORITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const WORKFLOW_MODES = ['quick', 'spec_driven'] as const;
export type WorkflowMode = (typeof WORKFLOW_MODES)[number];

// awaiting_approval: the spec run passed and synced; nothing runs until a person approves.
export const TICKET_STATUSES = [
  'backlog',
  'analyzing',
  'awaiting_approval',
  'building',
  'testing',
  'done',
  'blocked',
] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

// awaiting_input: the agent asked a question (src/contracts/questions.ts); the task holds no sandbox
// and no lease until a person answers, then it is pending again.
export const TASK_STATUSES = [
  'pending',
  'claimed',
  'running',
  'awaiting_input',
  'completed',
  'failed',
  'cancelled',
  'blocked',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const EXECUTION_MODES = ['exploration', 'implementation'] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];
