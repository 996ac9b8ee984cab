import type { DeliveryResult } from '../../../src/contracts/delivery';

/**
 * One vocabulary for every status the Command Center shows: the platform's ticket and task statuses,
 * the statuses a spec file's frontmatter carries (`done`, `in_progress`, …), a delivery's
 * "plan only" and a requirement's trace status. Each word has one key (its CSS class), one label
 * and one tone (its colour), so `completed` on a run and `done` in a spec read the same everywhere:
 * tables, badges, the graph and the board.
 */
// `ask`: an agent waits for a person's answer (issue 15). Its own colour, not `attention`: an approval
// can wait a day, a parked run wants its answer now.
export type StatusTone = 'neutral' | 'active' | 'attention' | 'ask' | 'ok' | 'warn' | 'bad' | 'muted';

export interface StatusView {
  /** The canonical key: the CSS class suffix (`status-done`) and what tests look for. */
  key: string;
  label: string;
  tone: StatusTone;
}

const VOCABULARY: Record<string, Omit<StatusView, 'key'>> = {
  backlog: { label: 'backlog', tone: 'neutral' },
  pending: { label: 'pending', tone: 'neutral' },
  todo: { label: 'pending', tone: 'neutral' },
  draft: { label: 'draft', tone: 'neutral' },
  review: { label: 'in review', tone: 'attention' },
  approved: { label: 'approved', tone: 'ok' },
  claimed: { label: 'starting', tone: 'active' },
  running: { label: 'running', tone: 'active' },
  in_progress: { label: 'in progress', tone: 'active' },
  analyzing: { label: 'analyzing', tone: 'active' },
  building: { label: 'building', tone: 'active' },
  testing: { label: 'testing', tone: 'active' },
  awaiting_approval: { label: 'awaiting approval', tone: 'attention' },
  awaiting_input: { label: 'needs your answer', tone: 'ask' },
  done: { label: 'done', tone: 'ok' },
  plan_only: { label: 'plan only (no model)', tone: 'warn' },
  failed: { label: 'failed', tone: 'bad' },
  blocked: { label: 'blocked', tone: 'bad' },
  cancelled: { label: 'cancelled', tone: 'muted' },
  verified: { label: 'verified', tone: 'ok' },
  unverified: { label: 'unverified', tone: 'warn' },
  failing: { label: 'failing', tone: 'bad' },
  not_started: { label: 'not started', tone: 'neutral' },
};

// Words that mean the same state: a run's `completed` is a spec's `done`.
const SYNONYMS: Record<string, string> = {
  completed: 'done',
  complete: 'done',
  finished: 'done',
  'in-progress': 'in_progress',
  canceled: 'cancelled',
  error: 'failed',
};

/** Whether the vocabulary has its own entry for a word (or a synonym of one). */
export function isKnownStatus(status: string): boolean {
  const raw = status.trim().toLowerCase();
  return (SYNONYMS[raw] ?? raw) in VOCABULARY;
}

/** The view of any status word; an unknown word keeps its text (underscores as spaces), neutral. */
export function statusView(status: string | null | undefined): StatusView {
  const raw = (status ?? '').trim().toLowerCase().replace(/\s+/g, '_');
  if (!raw) return { key: 'unknown', label: '—', tone: 'neutral' };
  const key = SYNONYMS[raw] ?? raw;
  const known = VOCABULARY[key];
  if (known) return { key, ...known };
  return { key: key.replace(/[^a-z0-9_-]/g, ''), label: raw.replace(/_/g, ' '), tone: 'neutral' };
}

/** The run's result as the delivery contract has it, when it has one (spec runs keep other fields). */
export function deliveryOf(result: unknown): Partial<DeliveryResult> | null {
  if (result === null || typeof result !== 'object') return null;
  return result as Partial<DeliveryResult>;
}

/** What a platform task shows: its status, except that a plan-only run says so (not done, not red). */
export function taskStatus(task: { status: string; result?: unknown }): string {
  return deliveryOf(task.result)?.plan_only === true ? 'plan_only' : task.status;
}

/** A run's title without the spec task id it repeats (`TSK-001: Add X` → `Add X`), shown beside that id. */
export function runTitle(task: { title: string; spec_task_id: string | null }): string {
  const id = task.spec_task_id;
  if (!id || !task.title.startsWith(id)) return task.title;
  return (
    task.title
      .slice(id.length)
      .replace(/^\s*[:\-–—]\s*/, '')
      .trim() || task.title
  );
}
