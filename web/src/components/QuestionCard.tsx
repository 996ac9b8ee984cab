// The question inbox on the ticket page (issue 15): an agent's question parks its task until a
// person answers here (or with `omoi ticket answer`, the API, MCP). The card appears as soon as the
// event stream brings `agent.question`, offers the agent's options as one-click answers and a box
// for an answer in the person's own words, and says who answered once someone has.
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useCallback, useId, useMemo, useState } from 'react';
import type { QUESTION_LIMITS } from '../../../src/contracts/questions';
import { api } from '../api/client';
import { keys } from '../api/queries';
import type { OmoiEvent, Question, TicketDetail } from '../api/types';
import { liveQuestions } from '../questions/live-questions';
import { errorMessage, StatusBadge } from './States';

// The contract's limit as a literal type: a change there fails the type check here (the web bundle
// imports no zod, so not the value).
const ANSWER_MAX: (typeof QUESTION_LIMITS)['answer'] = 8000;

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '');

function heading(question: Question): string {
  if (question.kind === 'budget') return 'Budget: continue?';
  return question.status === 'open' ? 'The agent asks' : 'The agent asked';
}

/**
 * One question. While open: the question, why the agent asks, its options as buttons that answer
 * at once, and a free-text answer (Ctrl/⌘+Enter sends). Once answered: the answer and who gave it.
 * `onAnswer` posts the answer; its rejection is shown on the card, and the person can try again.
 */
export function QuestionCard({
  question,
  onAnswer,
}: {
  question: Question;
  onAnswer: (answer: string) => Promise<unknown>;
}) {
  const headingId = useId();
  const answerId = useId();
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const open = question.status === 'open';

  const send = async (answer: string) => {
    const text = answer.trim();
    if (!text || sending) return;
    setSending(true);
    setError(null);
    try {
      await onAnswer(text);
      setDraft('');
    } catch (failure) {
      setError(failure);
    } finally {
      setSending(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void send(draft);
  };

  return (
    <section
      className={`card question-card question-${question.status}`}
      aria-labelledby={headingId}
      data-question={question.id}
    >
      <header className="question-head">
        <h2 id={headingId}>{heading(question)}</h2>
        <StatusBadge status={open ? 'awaiting_input' : question.status} />
      </header>
      <p className="muted small question-meta">
        {question.task_title ? <>{question.task_title} · </> : null}
        asked {when(question.asked_at)}
      </p>
      <p className="question-text">{question.question}</p>
      {question.why ? (
        <p className="question-why">
          <strong>Why it asks:</strong> {question.why}
        </p>
      ) : null}
      {open ? (
        <>
          {question.options.length > 0 ? (
            <fieldset className="question-options" disabled={sending}>
              <legend>Answer with one click</legend>
              {question.options.map((option) => (
                <button key={option} type="button" onClick={() => void send(option)}>
                  {option}
                </button>
              ))}
            </fieldset>
          ) : null}
          <form className="question-answer" onSubmit={submit}>
            <label htmlFor={answerId}>
              {question.options.length > 0 ? 'Or answer in your own words' : 'Your answer'}
            </label>
            <textarea
              id={answerId}
              rows={3}
              maxLength={ANSWER_MAX}
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                  e.preventDefault();
                  void send(draft);
                }
              }}
              disabled={sending}
            />
            <div className="actions">
              <button type="submit" className="primary" disabled={sending || !draft.trim()}>
                {sending ? 'Sending…' : 'Send answer'}
              </button>
              <span className="muted small hint">The task resumes with your answer.</span>
            </div>
          </form>
          {error ? (
            <p className="error" role="alert">
              {errorMessage(error)}
            </p>
          ) : null}
        </>
      ) : question.status === 'answered' ? (
        <div className="question-reply">
          <p className="question-answer-text">
            <strong>Answer:</strong> {question.answer}
          </p>
          <p className="muted small">
            Answered by {question.answered_by ?? 'someone'}
            {question.answered_at ? ` · ${when(question.answered_at)}` : ''}
          </p>
        </div>
      ) : (
        <p className="muted">Not answered: the task was cancelled.</p>
      )}
    </section>
  );
}

/**
 * The ticket's questions, live: what the server holds, updated by the ticket page's event stream
 * and by the answers given here. `answer` posts one and refreshes the ticket and the inbox.
 */
export function useTicketQuestions(ticket: TicketDetail | undefined, events: readonly OmoiEvent[]) {
  const client = useQueryClient();
  // what an answer returned, before the ticket is fetched again
  const [answered, setAnswered] = useState<ReadonlyMap<string, Question>>(new Map());
  const questions = useMemo(() => {
    if (!ticket) return [];
    const stored = new Map((ticket.questions ?? []).map((q) => [q.id, q]));
    for (const q of answered.values()) stored.set(q.id, q);
    return liveQuestions([...stored.values()], events, ticket);
  }, [ticket, events, answered]);
  const answer = useCallback(
    async (question: Question, text: string) => {
      const result = await api.answerTask(question.task_id, text);
      setAnswered((map) => new Map(map).set(result.question.id, result.question));
      if (ticket) void client.invalidateQueries({ queryKey: keys.ticket(ticket.id) });
      void client.invalidateQueries({ queryKey: keys.openQuestions });
    },
    [client, ticket],
  );
  return { questions, answer };
}

/** The cards of a ticket's questions, open ones first; nothing when it has none. */
export function QuestionList({
  questions,
  onAnswer,
}: {
  questions: readonly Question[];
  onAnswer: (question: Question, answer: string) => Promise<unknown>;
}) {
  if (questions.length === 0) return null;
  const open = questions.filter((q) => q.status === 'open').length;
  return (
    <div className="questions" aria-live="polite" aria-relevant="additions">
      {questions.map((question) => (
        <QuestionCard key={question.id} question={question} onAnswer={(text) => onAnswer(question, text)} />
      ))}
      {open === 0 ? null : (
        <p className="visually-hidden">
          {open === 1 ? 'One question waits for your answer.' : `${open} questions wait for your answer.`}
        </p>
      )}
    </div>
  );
}
