// Answering a ticket's question from outside the web UI: which open question an answer is for, and
// how a question reads as text. `omoi ticket answer`, `omoi questions` and the MCP tools share these,
// so the CLI and an agent pick the same question and see the same words.
import type { ApiClient } from '../api/client.js';
import type { Question } from '../contracts/questions.js';

/** The task an answer names: its id, a unique start of it (6+ characters), or its spec task id (TSK-…). */
export interface TaskRef {
  id: string;
  spec_task_id: string | null;
  task_type?: string;
}

export type QuestionChoice =
  | { ok: true; question: Question }
  /** none: nothing waits; several: name a task; unknown_task: the named task has no open question. */
  | { ok: false; reason: 'none' | 'several' | 'unknown_task'; open: Question[] };

/**
 * The open question an answer to a ticket is for: the only one, or the one of the named task.
 *
 * @example
 * const choice = chooseQuestion(detail.questions, detail.tasks, flags.task);
 * if (choice.ok) await api.post(`/tasks/${choice.question.task_id}/answer`, { answer });
 */
export function chooseQuestion(
  questions: readonly Question[],
  tasks: readonly TaskRef[],
  task?: string,
): QuestionChoice {
  const open = questions.filter((q) => q.status === 'open');
  if (open.length === 0) return { ok: false, reason: 'none', open };
  if (!task)
    return open.length === 1 ? { ok: true, question: open[0]! } : { ok: false, reason: 'several', open };
  const named = task.trim();
  const specOf = new Map(tasks.map((t) => [t.id, t.spec_task_id]));
  const exact = open.filter((q) => q.task_id === named || specOf.get(q.task_id) === named);
  const byPrefix = named.length >= 6 ? open.filter((q) => q.task_id.startsWith(named)) : [];
  const found = exact.length > 0 ? exact : byPrefix;
  return found.length === 1 ? { ok: true, question: found[0]! } : { ok: false, reason: 'unknown_task', open };
}

/** A task's short name beside its question: its spec task id, else its kind, then its id. */
export function taskLabel(question: Pick<Question, 'task_id'>, tasks: readonly TaskRef[]): string {
  const task = tasks.find((t) => t.id === question.task_id);
  return task?.spec_task_id ?? task?.task_type ?? question.task_id;
}

/**
 * A question as indented text lines: what is asked, why, the options, and once answered, the
 * answer and who gave it.
 */
export function questionLines(question: Question, indent = '  '): string[] {
  const lines = question.question.split('\n').map((line, i) => `${indent}${i === 0 ? '? ' : '  '}${line}`);
  if (question.why) lines.push(`${indent}  why: ${question.why.replace(/\s+/g, ' ')}`);
  if (question.options.length > 0) lines.push(`${indent}  options: ${question.options.join(' | ')}`);
  if (question.status === 'answered')
    lines.push(`${indent}  answered by ${question.answered_by ?? 'someone'}: ${question.answer ?? ''}`);
  if (question.status === 'cancelled') lines.push(`${indent}  cancelled with its task`);
  return lines;
}

/** The command that answers a question of a ticket (`--task` when more than one waits). */
export function answerCommand(ref: string, question: Pick<Question, 'task_id'>, several: boolean): string {
  return `omoi ticket answer ${ref}${several ? ` --task ${question.task_id}` : ''} "<answer>"`;
}

/**
 * The ticket's questions: TicketDetail.questions, or its own route when the detail lacks them.
 */
export async function ticketQuestions(
  api: ApiClient,
  detail: { id: string; questions?: Question[] | undefined },
): Promise<Question[]> {
  if (detail.questions) return detail.questions;
  const { questions } = await api.get<{ questions: Question[] }>(
    `/tickets/${encodeURIComponent(detail.id)}/questions`,
  );
  return questions;
}
