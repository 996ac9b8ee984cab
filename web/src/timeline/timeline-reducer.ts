import type { OmoiEvent, ValidationIssue } from '../api/types';

/**
 * The live timeline of one ticket. Events arrive from the first page load and from the SSE stream,
 * and again after every reconnect (the server replays after Last-Event-ID, or its latest 500 when a
 * fresh stream has none), so the reducer keys them by id: nothing is shown twice, and whatever
 * order they arrive in, they are shown in id order.
 */
export interface TimelineState {
  /** Sorted by id, each id once. */
  events: OmoiEvent[];
  /** The highest id seen, the resume point of a stream; 0 before the first one. */
  lastId: number;
  connection: 'connecting' | 'open' | 'reconnecting';
}

export type TimelineAction =
  | { type: 'received'; events: OmoiEvent[] }
  | { type: 'connection'; status: TimelineState['connection'] };

export const initialTimeline: TimelineState = { events: [], lastId: 0, connection: 'connecting' };

export function eventId(event: OmoiEvent): number {
  const id = typeof event.id === 'number' ? event.id : Number.parseInt(String(event.id), 10);
  return Number.isFinite(id) ? id : 0;
}

export function timelineReducer(state: TimelineState, action: TimelineAction): TimelineState {
  if (action.type === 'connection') {
    return action.status === state.connection ? state : { ...state, connection: action.status };
  }
  const seen = new Set(state.events.map(eventId));
  const fresh: OmoiEvent[] = [];
  for (const event of action.events) {
    const id = eventId(event);
    if (id <= 0 || seen.has(id)) continue;
    seen.add(id);
    fresh.push({ ...event, id });
  }
  if (fresh.length === 0) return state;
  const events = [...state.events, ...fresh].sort((a, b) => eventId(a) - eventId(b));
  return { ...state, events, lastId: eventId(events[events.length - 1]!) };
}

/**
 * Consecutive sandbox log lines fold into one entry, and so do runs of tool uses (an agent writing
 * ten files): the run's story stays readable, and every line is still one click away.
 */
export type TimelineEntry =
  | { kind: 'event'; event: OmoiEvent }
  | { kind: 'log'; events: OmoiEvent[] }
  | { kind: 'tools'; events: OmoiEvent[] };

export function groupEntries(events: OmoiEvent[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const event of events) {
    const last = entries[entries.length - 1];
    if (event.type === 'sandbox.log') {
      if (last?.kind === 'log') last.events.push(event);
      else entries.push({ kind: 'log', events: [event] });
    } else if (event.type === 'agent.tool_use' && last?.kind === 'tools') {
      last.events.push(event);
    } else if (
      event.type === 'agent.tool_use' &&
      last?.kind === 'event' &&
      last.event.type === 'agent.tool_use'
    ) {
      entries[entries.length - 1] = { kind: 'tools', events: [last.event, event] };
    } else entries.push({ kind: 'event', event });
  }
  return entries;
}

/** What a group needs to know of its task (a subset of the API's Task). */
export interface GroupTask {
  id: string;
  title: string;
  status: string;
  spec_task_id: string | null;
  task_type?: string;
  result?: unknown;
}

/** One task's part of an approved ticket's timeline. */
export interface TaskGroup {
  /** The task's id, or `ticket` for what belongs to the ticket itself (approval, status changes). */
  key: string;
  task: GroupTask | null;
  events: OmoiEvent[];
  /** How the group's latest event reads: the step the task is at. */
  current: string;
}

/**
 * After approval a ticket runs a task per spec task at once, and their events interleave: grouped
 * per task (the spec run first, then the tasks in the order they started), each group says where its
 * task is, and the page folds the finished ones. Events of no task (the approval, status changes)
 * form the ticket's own group, placed by its first event.
 */
export function groupByTask(events: OmoiEvent[], tasks: GroupTask[]): TaskGroup[] {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const groups = new Map<string, TaskGroup>();
  for (const event of events) {
    const key = event.task_id ?? 'ticket';
    let group = groups.get(key);
    if (!group) {
      group = { key, task: key === 'ticket' ? null : (byId.get(key) ?? null), events: [], current: '' };
      groups.set(key, group);
    }
    group.events.push(event);
  }
  for (const group of groups.values()) {
    const steps = group.events.filter((e) => e.type !== 'sandbox.log');
    const last = steps[steps.length - 1] ?? group.events[group.events.length - 1];
    group.current = last ? describeEvent(last).title : '';
  }
  return [...groups.values()];
}

/** Whether the timeline reads per task: once a ticket was approved and runs more than one task. */
export function isGroupedTimeline(events: OmoiEvent[]): boolean {
  return events.some((e) => e.type === 'ticket.approved');
}

/** "write_file ×9, read_file" for a run of tool uses. */
export function toolSummary(events: OmoiEvent[]): string {
  const counts = new Map<string, number>();
  for (const event of events) {
    const name = (event.type === 'agent.tool_use' && str(event.data.name)) || 'tool';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([name, n]) => (n > 1 ? `${name} ×${n}` : name)).join(', ');
}

export type RunPhase =
  | 'idle'
  | 'queued'
  | 'running'
  | 'awaiting_input'
  | 'completed'
  | 'failed'
  | 'cancelled';

export interface ValidationResult {
  passed: boolean;
  attempt: number | null;
  issues: ValidationIssue[];
  eventId: number;
}

/** What the ticket page shows above and beside the timeline, derived from the events alone. */
export interface RunSummary {
  phase: RunPhase;
  /** The last `spec.validation`, or null before the first one. */
  validation: ValidationResult | null;
  pushed: { branch: string; commit: string } | null;
  synced: { created: number; updated: number; unchanged: number } | null;
  error: string | null;
}

const num = (value: unknown): number => (typeof value === 'number' ? value : Number(value) || 0);
const str = (value: unknown): string =>
  typeof value === 'string' ? value : value == null ? '' : String(value);

export function validationIssues(raw: unknown): ValidationIssue[] {
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((issue): issue is Record<string, unknown> => issue !== null && typeof issue === 'object')
    .map((issue) => ({
      level: issue.level === 'warning' ? 'warning' : 'error',
      code: str(issue.code),
      path: str(issue.path),
      line: typeof issue.line === 'number' ? issue.line : null,
      message: str(issue.message),
      ...(typeof issue.fix === 'string' ? { fix: issue.fix } : {}),
    }));
}

export function summarize(events: OmoiEvent[]): RunSummary {
  const summary: RunSummary = { phase: 'idle', validation: null, pushed: null, synced: null, error: null };
  for (const event of events) {
    switch (event.type) {
      case 'task.created':
      case 'task.retrying':
        summary.phase = 'queued';
        summary.error = null;
        break;
      case 'task.claimed':
      case 'sandbox.spawned':
      case 'worker.started':
        summary.phase = 'running';
        break;
      case 'spec.validation':
        summary.validation = {
          passed: event.data.passed === true,
          attempt: typeof event.data.attempt === 'number' ? event.data.attempt : null,
          issues: validationIssues(event.data.issues),
          eventId: eventId(event),
        };
        break;
      case 'git.pushed':
        summary.pushed = { branch: str(event.data.branch), commit: str(event.data.commit) };
        break;
      case 'spec.synced':
        summary.synced = {
          created: num(event.data.created),
          updated: num(event.data.updated),
          unchanged: num(event.data.unchanged),
        };
        break;
      // a parked run holds no sandbox until a person answers; the answer queues it again
      case 'agent.question':
        summary.phase = 'awaiting_input';
        break;
      case 'question.answered':
        summary.phase = 'queued';
        break;
      case 'task.completed':
        summary.phase = 'completed';
        break;
      case 'worker.failed':
        summary.error = str(event.data.error) || 'The worker failed';
        break;
      case 'task.failed':
        summary.phase = 'failed';
        summary.error = str(event.data.error) || 'The task failed';
        break;
      case 'task.cancelled':
        summary.phase = 'cancelled';
        break;
    }
  }
  return summary;
}

export type Tone = 'info' | 'ok' | 'bad' | 'muted';

/** How one event reads in the timeline. `detail` is shown collapsed when `collapsed` is set. */
export interface EventView {
  title: string;
  tone: Tone;
  detail?: string;
  collapsed?: boolean;
  issues?: ValidationIssue[];
  /** Extra lines under the title (such as "Spec skill enforcement enabled"). */
  notes?: string[];
}

function shortCommit(commit: string): string {
  return /^[0-9a-f]{12,}$/i.test(commit) ? commit.slice(0, 10) : commit;
}

function pretty(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value, null, 2);
}

/**
 * How each event of the catalogue (src/contracts/events.ts) reads. The switch is exhaustive: a new
 * event type is a compile error here until it has a view. Fields are read through str()/num(): a
 * worker's events are checked only as JSON objects by the server.
 */
export function describeEvent(event: OmoiEvent): EventView {
  switch (event.type) {
    case 'project.created':
      return { title: `Project added: ${str(event.data.name)}`, tone: 'muted' };
    case 'ticket.created':
      return { title: 'Ticket created', tone: 'muted' };
    case 'task.created':
      return { title: `Task created${event.data.title ? `: ${str(event.data.title)}` : ''}`, tone: 'muted' };
    case 'task.updated':
      return { title: 'Task dependencies changed', tone: 'muted' };
    case 'task.claimed':
      return {
        title: 'Task claimed',
        tone: 'info',
        ...(event.data.attempt ? { notes: [`attempt ${num(event.data.attempt)}`] } : {}),
      };
    case 'sandbox.spawned': {
      const notes = event.data.require_spec_skill === true ? ['Spec skill enforcement enabled'] : [];
      const provider = str(event.data.provider);
      return { title: `Sandbox spawned${provider ? ` (${provider})` : ''}`, tone: 'info', notes };
    }
    case 'sandbox.log':
      return { title: str(event.data.text), tone: 'muted' };
    case 'worker.started': {
      const runtime = str(event.data.runtime_label || event.data.runtime);
      const notes = runtime ? [`agent runtime: ${runtime}`] : [];
      if (event.data.require_spec_skill === true) notes.push('REQUIRE_SPEC_SKILL=true');
      return { title: 'Worker started', tone: 'info', notes };
    }
    case 'skill.injected':
      return { title: `Skill injected${event.data.skill ? `: ${str(event.data.skill)}` : ''}`, tone: 'info' };
    case 'agent.message':
      return { title: 'Agent message', tone: 'muted', detail: str(event.data.text), collapsed: true };
    case 'agent.tool_use': {
      const tool = str(event.data.name);
      return {
        title: `Tool use${tool ? `: ${tool}` : ''}`,
        tone: 'muted',
        detail: pretty(event.data.input ?? event.data.output ?? event.data),
        collapsed: true,
      };
    }
    case 'spec.validation': {
      const passed = event.data.passed === true;
      const of = typeof event.data.max_attempts === 'number' ? ` of ${event.data.max_attempts}` : '';
      const attempt = typeof event.data.attempt === 'number' ? ` (attempt ${event.data.attempt}${of})` : '';
      return {
        title: `Spec validation ${passed ? 'PASSED' : 'FAILED'}${attempt}`,
        tone: passed ? 'ok' : 'bad',
        issues: validationIssues(event.data.issues),
      };
    }
    case 'git.pushed':
      return {
        title: `Pushed ${str(event.data.branch)} at ${shortCommit(str(event.data.commit))}`,
        tone: 'ok',
      };
    case 'spec.synced':
      return {
        title: `Specs synced: ${num(event.data.created)} created, ${num(event.data.updated)} updated, ${num(event.data.unchanged)} unchanged`,
        tone: 'ok',
      };
    case 'task.completed':
      return { title: 'Task completed', tone: 'ok' };
    case 'task.failed':
      return { title: `Task failed: ${str(event.data.error) || 'no reason given'}`, tone: 'bad' };
    case 'worker.failed':
      return { title: `Worker failed: ${str(event.data.error) || 'no reason given'}`, tone: 'bad' };
    case 'task.retrying': {
      const reason = str(event.data.error);
      return { title: 'Task retrying', tone: 'info', ...(reason ? { notes: [reason] } : {}) };
    }
    case 'task.cancelled':
      return {
        title: 'Task cancelled',
        tone: 'bad',
        ...(event.data.reason ? { notes: [str(event.data.reason)] } : {}),
      };
    case 'task.blocked':
      return { title: `Task blocked: ${str(event.data.reason) || 'a dependency failed'}`, tone: 'bad' };
    case 'task.unblocked':
      return { title: 'Task released: the dependency that blocked it runs again', tone: 'info' };
    case 'ticket.status_changed': {
      // statuses read as words: awaiting_approval → awaiting approval
      const to = str(event.data.to).replace(/_/g, ' ');
      const reason = str(event.data.reason);
      return {
        title: `Ticket moved${event.data.from ? ` from ${str(event.data.from).replace(/_/g, ' ')}` : ''} to ${to || 'a new status'}`,
        tone: to === 'blocked' ? 'bad' : to === 'done' ? 'ok' : 'info',
        ...(reason ? { notes: [reason] } : {}),
      };
    }
    case 'ticket.approved': {
      const count = Array.isArray(event.data.tasks) ? event.data.tasks.length : 0;
      return { title: `Spec approved: ${count} task${count === 1 ? '' : 's'} queued`, tone: 'ok' };
    }
    case 'git.merged': {
      const conflicts = event.data.conflicts;
      return {
        title: `Merged ${str(event.data.branch)} at ${shortCommit(str(event.data.commit))}`,
        tone: 'info',
        ...(conflicts.length > 0 ? { notes: [`conflicts resolved: ${conflicts.join(', ')}`] } : {}),
      };
    }
    case 'verify.result': {
      const d = event.data;
      if (d.unverified) return { title: `Unverified: ${d.unverified}`, tone: 'muted' };
      return {
        title: `Verification ${d.passed ? 'PASSED' : 'FAILED'}: ${str(d.command)} (attempt ${d.attempt} of ${d.max_attempts}, exit ${d.exit_code ?? '–'})`,
        tone: d.passed ? 'ok' : 'bad',
        ...(d.output_tail ? { detail: d.output_tail, collapsed: true } : {}),
      };
    }
    case 'pr.opened':
      return {
        title: `Pull request ${event.data.updated ? 'updated' : 'opened'}: ${str(event.data.url)}`,
        tone: 'ok',
      };
    case 'pr.failed':
      return { title: `Pull request not opened: ${str(event.data.error)}`, tone: 'bad' };
    case 'budget.threshold': {
      const d = event.data;
      const amount = (n: number) => (d.unit === 'usd' ? `$${Number(n.toFixed(4))}` : `${n} tokens`);
      return {
        title: `Budget: ${Math.round((d.spent / d.cap) * 100)}% of the ${d.scope} cap spent (${amount(d.spent)} of ${amount(d.cap)})`,
        tone: 'info',
      };
    }
    case 'agent.question': {
      const d = event.data;
      return {
        title: `${d.kind === 'budget' ? 'Budget question' : 'The agent asks'}: ${str(d.question)}`,
        tone: 'info',
        ...(d.options.length > 0 || d.why
          ? { notes: [...(d.why ? [`why: ${d.why}`] : []), ...d.options.map((o) => `option: ${o}`)] }
          : {}),
      };
    }
    case 'question.answered':
      return { title: `Answered by ${str(event.data.by)}: ${str(event.data.answer)}`, tone: 'ok' };
    default:
      return unknownEvent(event);
  }
}

/** Reached only by an event type this build does not know (a newer server): shown raw. */
function unknownEvent(event: never): EventView {
  const { type, data } = event as { type: string; data?: unknown };
  return { title: type, tone: 'muted', detail: pretty(data), collapsed: true };
}
