import type { OmoiEvent, Question, Task } from '../api/types';

/**
 * A ticket's questions as the page shows them: what the server last said (TicketDetail.questions),
 * brought up to date by the event stream, so a card appears the moment `agent.question` arrives and
 * reads "answered by …" the moment `question.answered` does, before the ticket is fetched again.
 * Open questions first, the oldest first (answer in the order asked); then the others, newest first.
 */
export function liveQuestions(
  stored: readonly Question[],
  events: readonly OmoiEvent[],
  ticket: {
    id: string;
    ref: string | null;
    project_id: string;
    tasks: readonly Pick<Task, 'id' | 'title'>[];
  },
): Question[] {
  const byId = new Map(stored.map((q) => [q.id, q]));
  const titles = new Map(ticket.tasks.map((t) => [t.id, t.title]));
  for (const event of events) {
    if (event.type === 'agent.question') {
      const d = event.data;
      if (byId.has(d.question_id) || !event.task_id) continue;
      byId.set(d.question_id, {
        id: d.question_id,
        project_id: event.project_id ?? ticket.project_id,
        ticket_id: event.ticket_id ?? ticket.id,
        task_id: event.task_id,
        ticket_ref: ticket.ref,
        task_title: titles.get(event.task_id) ?? '',
        kind: d.kind,
        question: d.question,
        options: d.options ?? [],
        why: d.why ?? null,
        status: 'open',
        answer: null,
        answered_by: null,
        asked_at: event.ts,
        answered_at: null,
      });
    } else if (event.type === 'question.answered') {
      const known = byId.get(event.data.question_id);
      if (!known || known.status === 'answered') continue;
      byId.set(known.id, {
        ...known,
        status: 'answered',
        answer: event.data.answer,
        answered_by: event.data.by,
        answered_at: event.ts,
      });
    }
  }
  return sortQuestions([...byId.values()]);
}

/** Open first, the oldest first; then answered and cancelled ones, the latest first. */
export function sortQuestions(questions: Question[]): Question[] {
  const open = questions
    .filter((q) => q.status === 'open')
    .sort((a, b) => a.asked_at.localeCompare(b.asked_at));
  const closed = questions
    .filter((q) => q.status !== 'open')
    .sort((a, b) => (b.answered_at ?? b.asked_at).localeCompare(a.answered_at ?? a.asked_at));
  return [...open, ...closed];
}
