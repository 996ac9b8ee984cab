// The event catalogue: every event type Omoi stores and streams, with its data, defined once. The
// server appends them (src/core/events.ts), the worker posts its own kinds (WORKER_EVENT_TYPES),
// the CLI's --wait and the web timeline read them. Appending or handling a type that is not listed
// here is a compile error; a worker posting one is a 400.
//
// @example
// const event: AppendEvent = { type: 'task.failed', taskId, data: { error: 'no changes' } };
/** A validation problem as events carry it (the spec format's ValidationIssue). */
export interface EventIssue {
  level: 'error' | 'warning';
  code: string;
  path: string;
  line: number | null;
  message: string;
  fix?: string;
}

/** The data of each event type. Optional fields are the ones some emitters leave out. */
export interface EventDataMap {
  'project.created': { name: string; repo_url: string };
  'ticket.created': { ref: string; title: string; workflow_mode: string; priority: string };
  'ticket.status_changed': { from: string; to: string; reason?: string };
  'ticket.approved': { ref: string; by: string; tasks: string[]; spec_tasks: string[] };
  'task.created': {
    title: string;
    task_type: string;
    execution_mode: string;
    execution_config: unknown;
    depends_on: string[];
    status: string;
  };
  'task.updated': { depends_on: string[] };
  'task.claimed': { claimed_by: string; attempt: number; max_attempts: number };
  'task.completed': { ok: boolean; [result: string]: unknown };
  'task.failed': {
    error: string;
    exit_code?: number | null;
    attempts?: number;
    previous_claimer?: string | null;
  };
  'task.retrying': {
    error?: string | null;
    attempt?: number;
    attempts?: number;
    previous_claimer?: string | null;
    previous_status?: string;
    previous_error?: string | null;
    by?: string;
  };
  'task.cancelled': { previous_status: string; reason: string };
  'task.blocked': { reason: string; blocked_by: string; spec_task_id: string | null };
  'task.unblocked': { released_by: string; spec_task_id: string | null };
  'sandbox.spawned': {
    sandbox_id: string;
    provider: string;
    external_id: string;
    branch: string;
    execution_mode: string;
    runtime: string;
    require_spec_skill?: boolean;
    message?: string;
  };
  'sandbox.log': { stream: 'stdout' | 'stderr' | 'system'; text: string };
  'worker.started': {
    sandbox_id: string;
    execution_mode: string;
    require_spec_skill: boolean;
    runtime: string;
    runtime_label: string;
  };
  'worker.failed': { error: string };
  'skill.injected': { skill: string; chars: number };
  'agent.message': { text: string };
  'agent.tool_use': { name: string; input?: unknown; ok?: boolean; output?: string };
  'spec.validation': {
    passed: boolean;
    attempt: number;
    max_attempts: number;
    message: string;
    summary: { files: number; errors: number; warnings: number };
    issues: EventIssue[];
  };
  'git.pushed': { branch: string; commit: string; committed: boolean };
  'spec.synced': { created: number; updated: number; unchanged: number };
  // Delivery (issue 13, src/contracts/delivery.ts).
  /** A dependency's (or, for integration, a task's) branch merged into the workspace. */
  'git.merged': { branch: string; commit: string; conflicts: string[]; resolved?: boolean };
  /** One run of the verify command (or `passed: false, unverified` when nothing could run). */
  'verify.result': {
    command: string | null;
    attempt: number;
    max_attempts: number;
    passed: boolean;
    exit_code: number | null;
    duration_ms: number;
    output_tail: string;
    unverified?: string;
    tests?: { passed: number; failed: number; skipped?: number };
  };
  /** The server opened or updated the ticket's pull request. */
  'pr.opened': {
    provider: string;
    url: string;
    number: number;
    head: string;
    base: string;
    updated: boolean;
  };
  /** Opening the pull request failed (the integration branch is pushed and stays). */
  'pr.failed': { provider: string; error: string };
  // Questions (issue 15, src/contracts/questions.ts).
  /** An agent asked; its task is parked in awaiting_input (appended with the park, in one transaction). */
  'agent.question': {
    question_id: string;
    kind: 'agent' | 'budget';
    question: string;
    options: string[];
    why: string | null;
  };
  /** A person answered; the task is pending again and resumes its conversation. */
  'question.answered': { question_id: string; answer: string; by: string };
  /** Spend passed a cap's soft threshold (once per scope and unit; `key` names it). */
  'budget.threshold': {
    key: string;
    scope: 'task' | 'ticket' | 'project' | 'daily';
    unit: 'usd' | 'tokens';
    spent: number;
    cap: number;
    threshold: number;
  };
}

export type EventType = keyof EventDataMap;

/** Every type, at run time (the compiler checks the list is exactly the map's keys). */
export const EVENT_TYPES = [
  'project.created',
  'ticket.created',
  'ticket.status_changed',
  'ticket.approved',
  'task.created',
  'task.updated',
  'task.claimed',
  'task.completed',
  'task.failed',
  'task.retrying',
  'task.cancelled',
  'task.blocked',
  'task.unblocked',
  'sandbox.spawned',
  'sandbox.log',
  'worker.started',
  'worker.failed',
  'skill.injected',
  'agent.message',
  'agent.tool_use',
  'spec.validation',
  'git.pushed',
  'spec.synced',
  'git.merged',
  'verify.result',
  'pr.opened',
  'pr.failed',
  'budget.threshold',
  'agent.question',
  'question.answered',
] as const satisfies readonly EventType[];
type Missing = Exclude<EventType, (typeof EVENT_TYPES)[number]>;
const everyTypeListed: Missing extends never ? true : Missing = true;
void everyTypeListed;

/** The types a worker may post for its own task (POST /api/v1/tasks/:id/events). */
export const WORKER_EVENT_TYPES = [
  'worker.started',
  'worker.failed',
  'skill.injected',
  'agent.message',
  'agent.tool_use',
  'spec.validation',
  'git.pushed',
  'spec.synced',
  'git.merged',
  'verify.result',
] as const satisfies readonly EventType[];
export type WorkerEventType = (typeof WORKER_EVENT_TYPES)[number];

export function isWorkerEventType(type: string): type is WorkerEventType {
  return (WORKER_EVENT_TYPES as readonly string[]).includes(type);
}

/** One stored event, as the API returns it and SSE streams it. */
export type OmoiEvent = {
  [K in EventType]: {
    id: number;
    type: K;
    ts: string;
    project_id: string | null;
    ticket_id: string | null;
    task_id: string | null;
    data: EventDataMap[K];
  };
}[EventType];

/** What the server appends: a typed event and where it belongs. */
export type AppendEvent = {
  [K in EventType]: {
    type: K;
    projectId?: string | null;
    ticketId?: string | null;
    taskId?: string | null;
    data?: EventDataMap[K];
  };
}[EventType];

/** An event's data, by its type. */
export type EventData<K extends EventType> = EventDataMap[K];

/** Narrows a stored event to one type (for handlers). */
export function isEvent<K extends EventType>(
  event: { type: string },
  type: K,
): event is Extract<OmoiEvent, { type: K }> {
  return event.type === type;
}
