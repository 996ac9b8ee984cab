import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useReducer, useState } from 'react';
import { runtimeBadge } from '../../../src/contracts/runtime-badge';
import { api, eventsUrl } from '../api/client';
import { keys, useHealth, useTicket, useTicketSpecs } from '../api/queries';
import type { OmoiEvent, Task } from '../api/types';
import { SpecTabs } from '../components/SpecTabs';
import { approveConfirmingBudget, SpendBadge } from '../components/SpendBadge';
import {
  ErrorState,
  errorMessage,
  Loading,
  ModeBadge,
  RuntimeBadge,
  StatusBadge,
} from '../components/States';
import { Timeline } from '../components/Timeline';
import { Link } from '../lib/router';
import { initialTimeline, type RunSummary, summarize, timelineReducer } from '../timeline/timeline-reducer';
import { useEventStream } from '../timeline/use-event-stream';

// Events after which the ticket's row, tasks or specs have changed on the server.
const REFRESHING = /^(task\.|ticket\.|spec\.synced|git\.pushed)/;
const ACTIVE = new Set(['pending', 'claimed', 'running']);
const RETRYABLE = new Set(['failed', 'cancelled']);

function latestTask(tasks: Task[]): Task | undefined {
  return [...tasks]
    .sort((a, b) => String(a.created_at ?? '').localeCompare(String(b.created_at ?? '')))
    .pop();
}

function RunFacts({ summary }: { summary: RunSummary }) {
  return (
    <dl className="facts">
      <div>
        <dt>Run</dt>
        <dd className={`phase phase-${summary.phase}`}>{summary.phase}</dd>
      </div>
      {summary.pushed ? (
        <div>
          <dt>Branch</dt>
          <dd>
            <code>{summary.pushed.branch}</code> @ <code>{summary.pushed.commit.slice(0, 10)}</code>
          </dd>
        </div>
      ) : null}
      {summary.synced ? (
        <div>
          <dt>Synced</dt>
          <dd>
            {summary.synced.created} created, {summary.synced.updated} updated, {summary.synced.unchanged}{' '}
            unchanged
          </dd>
        </div>
      ) : null}
      {summary.error ? (
        <div>
          <dt>Failure</dt>
          <dd className="error">{summary.error}</dd>
        </div>
      ) : null}
    </dl>
  );
}

/** The runtime the ticket's latest run reported (worker.started, else sandbox.spawned), if any. */
function runtimeOf(events: OmoiEvent[]): string | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === 'worker.started' || e.type === 'sandbox.spawned') {
      const data = e.data as { runtime?: string; runtime_label?: string };
      if (data.runtime) return runtimeBadge(data.runtime, data.runtime_label);
    }
  }
  return null;
}

/** Approving starts paid work with a real model: say what will run, and ask before posting. */
function ApproveDialog({
  tasks,
  runtime,
  onConfirm,
  onCancel,
}: {
  tasks: string[];
  runtime: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <div className="dialog-backdrop">
      <div
        className="dialog card"
        role="dialog"
        aria-modal="true"
        aria-labelledby="approve-title"
        onKeyDown={(e) => e.key === 'Escape' && onCancel()}
      >
        <h2 id="approve-title">
          Approve and start {tasks.length === 1 ? '1 task' : `${tasks.length} tasks`}?
        </h2>
        <p>
          Each spec task becomes a run in its own sandbox, in dependency order
          {runtime ? (
            <>
              , on the <strong>{runtime}</strong> runtime
            </>
          ) : null}
          .
        </p>
        {tasks.length ? (
          <ol className="small">
            {tasks.map((t) => (
              <li key={t}>{t}</li>
            ))}
          </ol>
        ) : null}
        <div className="actions">
          <button type="button" onClick={onCancel}>
            Keep reviewing
          </button>
          {/* biome-ignore lint/a11y/noAutofocus: the dialog's one decision takes the focus */}
          <button type="button" className="primary" onClick={onConfirm} autoFocus>
            Approve and start
          </button>
        </div>
      </div>
    </div>
  );
}

// the spec run first, then the executable tasks in their spec ids' order
function bySpecTask(a: Task, b: Task): number {
  return (a.spec_task_id ?? '').localeCompare(b.spec_task_id ?? '', undefined, { numeric: true });
}

/** After approval a ticket has a task per spec task: their state at a glance. */
function TaskRuns({ tasks }: { tasks: Task[] }) {
  return (
    <section className="card" aria-label="Tasks">
      <h2>Tasks</h2>
      <div className="table-scroll">
        <table className="runs">
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Status</th>
              <th scope="col">Branch</th>
            </tr>
          </thead>
          <tbody>
            {[...tasks].sort(bySpecTask).map((task) => (
              <tr key={task.id}>
                <td>
                  {task.title}
                  {task.error ? <div className="error small">{task.error}</div> : null}
                </td>
                <td>
                  <StatusBadge status={task.status} />
                </td>
                <td>{task.branch ? <code className="wrap">{task.branch}</code> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function TicketView({ id }: { id: string }) {
  const client = useQueryClient();
  const ticket = useTicket(id);
  const specs = useTicketSpecs(id);
  const [timeline, dispatch] = useReducer(timelineReducer, initialTimeline);
  const [confirming, setConfirming] = useState(false);
  const health = useHealth();

  useEffect(() => {
    if (ticket.data?.events.length) dispatch({ type: 'received', events: ticket.data.events });
  }, [ticket.data]);

  const onEvents = useCallback(
    (events: OmoiEvent[]) => {
      dispatch({ type: 'received', events });
      if (events.some((e) => REFRESHING.test(e.type))) {
        void client.invalidateQueries({ queryKey: keys.ticket(id) });
      }
    },
    [client, id],
  );
  const onStatus = useCallback(
    (status: 'connecting' | 'open' | 'reconnecting') => dispatch({ type: 'connection', status }),
    [],
  );
  useEventStream(eventsUrl({ ticket_id: id }), onEvents, onStatus);

  const summary = useMemo(() => summarize(timeline.events), [timeline.events]);
  const refresh = () => client.invalidateQueries({ queryKey: keys.ticket(id) });
  const task = latestTask(ticket.data?.tasks ?? []);
  const cancel = useMutation({ mutationFn: (taskId: string) => api.cancelTask(taskId), onSettled: refresh });
  const retry = useMutation({ mutationFn: (taskId: string) => api.retryTask(taskId), onSettled: refresh });
  const approve = useMutation({ mutationFn: () => approveConfirmingBudget(id), onSettled: refresh });

  if (ticket.isPending) return <Loading what="the ticket" />;
  if (ticket.error) {
    return (
      <div className="page">
        <h1>Ticket</h1>
        <ErrorState error={ticket.error} retry={() => ticket.refetch()} />
        <p>
          <Link to="/board">Back to the board</Link>
        </p>
      </div>
    );
  }
  const t = ticket.data;
  // the Command Center makes the prompt's first line the title: show only what the title leaves out
  const description = t.description?.trim() ?? '';
  const details = description.startsWith(t.title) ? description.slice(t.title.length).trim() : description;
  const docs = specs.data ?? (t.spec_documents?.length ? t.spec_documents : []);
  // the API stores only spec sets that pass the validator; a later failed run hides Approve again
  const specValid =
    docs.length > 0 && t.workflow_mode === 'spec_driven' && summary.validation?.passed !== false;
  const actionError = cancel.error ?? retry.error ?? approve.error;
  const runtime = runtimeOf(timeline.events) ?? health.data?.runtime ?? null;
  // what approving starts: the spec's tasks, in their ids' order
  const specTasks = docs
    .filter((d) => d.kind === 'task')
    .sort((a, b) => a.spec_id.localeCompare(b.spec_id, undefined, { numeric: true }))
    .map((d) => `${d.spec_id}${d.title ? ` ${d.title}` : ''}`);
  const awaiting = t.status === 'awaiting_approval' && !t.approved_at;

  return (
    <div className="page ticket">
      <header className="ticket-head">
        <div>
          <p className="muted">
            {t.ref ? <code>{t.ref}</code> : null} <ModeBadge mode={t.workflow_mode} />{' '}
            <StatusBadge status={t.status} /> <RuntimeBadge runtime={runtime} />{' '}
            <SpendBadge ticketId={t.id} />
          </p>
          <h1>{t.title}</h1>
          {details ? <p className="description">{details}</p> : null}
        </div>
        <div className="actions">
          {task ? (
            <>
              <button
                type="button"
                onClick={() => cancel.mutate(task.id)}
                disabled={!ACTIVE.has(task.status) || cancel.isPending}
              >
                Cancel
              </button>
              <button
                type="button"
                onClick={() => retry.mutate(task.id)}
                disabled={!RETRYABLE.has(task.status) || retry.isPending}
              >
                Retry
              </button>
            </>
          ) : null}
          {t.approved_at ? (
            <button type="button" disabled title={`Approved ${new Date(t.approved_at).toLocaleString()}`}>
              Approved
            </button>
          ) : specValid ? (
            <button
              type="button"
              className="primary"
              onClick={() => setConfirming(true)}
              disabled={approve.isPending || approve.isSuccess}
            >
              {approve.isSuccess ? 'Approved' : approve.isPending ? 'Approving…' : 'Approve'}
            </button>
          ) : null}
        </div>
      </header>
      {awaiting && specValid && !approve.isSuccess ? (
        <div className="banner awaiting" role="status">
          <strong>Awaiting your approval.</strong> The spec passed validation and is synced. Approving starts{' '}
          {specTasks.length === 1 ? '1 task' : `${specTasks.length} tasks`}
          {runtime ? ` on the ${runtime} runtime` : ''}; review the Requirements, Design and Tasks first.
        </div>
      ) : null}
      {confirming ? (
        <ApproveDialog
          tasks={specTasks}
          runtime={runtime}
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            approve.mutate();
          }}
        />
      ) : null}
      {actionError ? (
        <p className="error" role="alert">
          {errorMessage(actionError)}
        </p>
      ) : null}
      <RunFacts summary={summary} />
      {t.tasks.length > 1 ? <TaskRuns tasks={t.tasks} /> : null}
      <div className="ticket-grid">
        <Timeline state={timeline} />
        {t.workflow_mode === 'spec_driven' || docs.length > 0 ? (
          specs.error ? (
            <ErrorState error={specs.error} retry={() => specs.refetch()} />
          ) : (
            <SpecTabs docs={docs} validation={summary.validation} />
          )
        ) : null}
      </div>
    </div>
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `/tickets/TKT-001`: the API resolves the ref (a 409 names the projects when it repeats). */
function TicketByRef({ ticketRef }: { ticketRef: string }) {
  const ticket = useTicket(ticketRef);
  if (ticket.isPending) return <Loading what="the ticket" />;
  if (ticket.error)
    return (
      <div className="page">
        <h1>Ticket {ticketRef}</h1>
        <ErrorState error={ticket.error} retry={() => ticket.refetch()} />
        <p>
          <Link to="/board">Back to the board</Link>
        </p>
      </div>
    );
  return <TicketView key={ticket.data.id} id={ticket.data.id} />;
}

export function TicketPage({ id }: { id: string }) {
  // a fresh reducer and stream per ticket; the event stream and actions need the ticket's id
  return UUID.test(id) ? <TicketView key={id} id={id} /> : <TicketByRef key={id} ticketRef={id} />;
}
