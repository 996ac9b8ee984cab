import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useId } from 'react';
import { eventsUrl } from '../api/client';
import { useHealth, useOpenQuestions, useProjects, useTickets } from '../api/queries';
import { type OmoiEvent, TICKET_STATUSES, type TicketListItem } from '../api/types';
import { PullRequestLink } from '../components/Delivery';
import { Spend } from '../components/SpendBadge';
import { Empty, ErrorState, Loading, ModeBadge, RuntimeBadge, StatusBadge } from '../components/States';
import { Link, navigate, useLocation } from '../lib/router';
import { statusView } from '../status/status-vocabulary';
import { useEventStream } from '../timeline/use-event-stream';

const CHANGES = /^(task\.|ticket\.|spec\.synced|pr\.)/;

function Card({
  ticket,
  project,
  runtime,
  asking = 0,
}: {
  ticket: TicketListItem;
  project?: string | undefined;
  runtime?: string | null | undefined;
  /** Open questions of the ticket's tasks: the card says a person is needed. */
  asking?: number;
}) {
  return (
    <li className={`board-card${asking > 0 ? ' asking' : ''}`}>
      <Link to={`/tickets/${ticket.id}`}>
        {ticket.ref ? <code>{ticket.ref}</code> : null} <span className="board-title">{ticket.title}</span>
      </Link>
      <div className="badges">
        {asking > 0 ? (
          <StatusBadge
            status="awaiting_input"
            title={asking === 1 ? 'An agent asks a question' : `${asking} questions of agents wait`}
          />
        ) : null}
        <ModeBadge mode={ticket.workflow_mode} />
        {ticket.workflow_mode === 'spec_driven' ? <span className="badge spec">spec</span> : null}
        <RuntimeBadge runtime={runtime} />
        <PullRequestLink pr={ticket.pull_request} compact />
        <Spend spend={ticket.spend} />
        {project ? <span className="muted small">{project}</span> : null}
      </div>
    </li>
  );
}

export function BoardPage() {
  const { search } = useLocation();
  const projectId = search.get('project') ?? undefined;
  const projects = useProjects();
  const tickets = useTickets(projectId);
  const health = useHealth();
  const questions = useOpenQuestions();
  const client = useQueryClient();
  const filterId = useId();
  const names = new Map((projects.data ?? []).map((p) => [p.id, p.name]));
  const asking = new Map<string, number>();
  for (const q of questions.data ?? [])
    if (q.ticket_id) asking.set(q.ticket_id, (asking.get(q.ticket_id) ?? 0) + 1);

  const onEvents = useCallback(
    (events: OmoiEvent[]) => {
      if (events.some((e) => CHANGES.test(e.type))) void client.invalidateQueries({ queryKey: ['tickets'] });
    },
    [client],
  );
  useEventStream(eventsUrl(projectId ? { project_id: projectId } : {}), onEvents);

  const setProject = (id: string) =>
    navigate(id ? `/board?project=${encodeURIComponent(id)}` : '/board', { replace: true });

  return (
    <div className="page board">
      <div className="page-head">
        <h1>Board</h1>
        <div className="inline-field">
          <label htmlFor={filterId}>Project</label>
          <select id={filterId} value={projectId ?? ''} onChange={(e) => setProject(e.target.value)}>
            <option value="">All projects</option>
            {(projects.data ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
      </div>
      {tickets.isPending ? (
        <Loading what="tickets" />
      ) : tickets.error ? (
        <ErrorState error={tickets.error} retry={() => tickets.refetch()} />
      ) : tickets.data.length === 0 ? (
        <Empty>
          No tickets yet. Describe a feature in the <Link to="/command">Command Center</Link>.
        </Empty>
      ) : (
        <div className="columns">
          {TICKET_STATUSES.map((status) => {
            const column = tickets.data.filter((t) => t.status === status);
            const view = statusView(status);
            return (
              <section
                key={status}
                className="column"
                aria-label={`${view.label} (${column.length})`}
                data-status={status}
              >
                <h2 className={`column-head st-${view.tone}`}>
                  {view.label} <span className="count">{column.length}</span>
                </h2>
                {column.length === 0 ? (
                  <p className="muted small">Nothing here.</p>
                ) : (
                  <ul>
                    {column.map((t) => (
                      <Card
                        key={t.id}
                        ticket={t}
                        project={projectId ? undefined : names.get(t.project_id)}
                        runtime={health.data?.runtime}
                        asking={asking.get(t.id) ?? 0}
                      />
                    ))}
                  </ul>
                )}
              </section>
            );
          })}
        </div>
      )}
    </div>
  );
}
