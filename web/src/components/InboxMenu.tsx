// The inbox in the top bar (issue 15): how many questions of agents wait for a person, across every
// project, kept live by the event stream; a click lists them, each a link to its ticket's card.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { eventsUrl } from '../api/client';
import { keys, useOpenQuestions } from '../api/queries';
import type { OmoiEvent, Question } from '../api/types';
import { Link } from '../lib/router';
import { useEventStream } from '../timeline/use-event-stream';

// What opens or closes a question: asked, answered, or its task ended (a cancelled task's question
// is cancelled with it).
const INBOX_CHANGES = /^(agent\.question|question\.|task\.cancelled|task\.failed)$/;

/** The toggle and its list; `questions` are the open ones, the oldest first. */
export function InboxButton({ questions }: { questions: readonly Question[] }) {
  const [expanded, setExpanded] = useState(false);
  const panelId = useId();
  const root = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  const count = questions.length;

  useEffect(() => {
    if (!expanded) return;
    // a click anywhere else closes the list; Escape closes it and gives the focus back to the toggle
    const outside = (event: MouseEvent) => {
      if (!root.current?.contains(event.target as Node)) setExpanded(false);
    };
    const onEscape = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      setExpanded(false);
      if (root.current?.contains(document.activeElement)) toggle.current?.focus();
    };
    document.addEventListener('mousedown', outside);
    document.addEventListener('keydown', onEscape);
    return () => {
      document.removeEventListener('mousedown', outside);
      document.removeEventListener('keydown', onEscape);
    };
  }, [expanded]);

  return (
    <div className="inbox" ref={root}>
      <button
        type="button"
        ref={toggle}
        className={`inbox-toggle${count > 0 ? ' has-open' : ''}`}
        aria-expanded={expanded}
        aria-controls={panelId}
        onClick={() => setExpanded((v) => !v)}
      >
        Inbox <span className="inbox-count">{count}</span>
        <span className="visually-hidden">{count === 1 ? ' question waits' : ' questions wait'} for you</span>
      </button>
      {expanded ? (
        <section id={panelId} className="inbox-panel card" aria-label="Questions waiting for you">
          {count === 0 ? (
            <p className="muted">No question waits for you.</p>
          ) : (
            <ul>
              {questions.map((q) => (
                <li key={q.id} data-question={q.id}>
                  {q.ticket_id ? (
                    <Link
                      to={`/tickets/${q.ticket_id}`}
                      className="inbox-link"
                      onClick={() => setExpanded(false)}
                    >
                      {q.ticket_ref ? <code>{q.ticket_ref}</code> : null} {q.task_title}
                    </Link>
                  ) : (
                    <span>{q.task_title}</span>
                  )}
                  {q.kind === 'budget' ? <span className="badge">budget</span> : null}
                  <p className="inbox-question">{q.question}</p>
                </li>
              ))}
            </ul>
          )}
        </section>
      ) : null}
    </div>
  );
}

/** The inbox, live; nothing while the server has no inbox (an older build) or cannot be read. */
export function InboxMenu() {
  const client = useQueryClient();
  const open = useOpenQuestions();
  const onEvents = useCallback(
    (events: OmoiEvent[]) => {
      if (events.some((e) => INBOX_CHANGES.test(e.type)))
        void client.invalidateQueries({ queryKey: keys.openQuestions });
    },
    [client],
  );
  useEventStream(eventsUrl({}), onEvents);
  if (!open.data) return null;
  return <InboxButton questions={open.data} />;
}
