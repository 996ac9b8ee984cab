import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useReducer, useState } from 'react';
import { runtimeBadge } from '../../../src/contracts/runtime-badge';
import { api, eventsUrl } from '../api/client';
import { keys, useHealth, useTicket, useTicketSpecs, useTicketTrace } from '../api/queries';
import type { OmoiEvent, SpecDocument, Task } from '../api/types';
import { ChangeCounts, EvidenceBadge, PullRequestLink } from '../components/Delivery';
import { QuestionList, useTicketQuestions } from '../components/QuestionCard';
import { SpecTabs, type Tab } from '../components/SpecTabs';
import { approveConfirmingBudget, SpendBadge } from '../components/SpendBadge';
import {
  ErrorState,
  errorMessage,
  Loading,
  ModeBadge,
  RuntimeBadge,
  StatusBadge,
} from '../components/States';
import { TaskPanel } from '../components/TaskPanel';
import { Timeline } from '../components/Timeline';
import { Link } from '../lib/router';
import { deliveryOf, runTitle, statusView, taskStatus } from '../status/status-vocabulary';
import { initialTimeline, type RunSummary, summarize, timelineReducer } from '../timeline/timeline-reducer';
import { useEventStream } from '../timeline/use-event-stream';

// Events after which the ticket's row, tasks or specs have changed on the server.
const REFRESHING =
  /^(task\.|ticket\.|spec\.synced|git\.pushed|verify\.result|pr\.|agent\.question|question\.)/;
// a task parked on a question may be cancelled like a queued one
const ACTIVE = new Set(['pending', 'claimed', 'running', 'awaiting_input']);
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
        <dd className={`phase phase-${summary.phase}`}>
          {summary.phase === 'idle' || summary.phase === 'queued'
            ? summary.phase
            : statusView(summary.phase).label}
        </dd>
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

/** Whether a run has something of a delivery to show (a branch, changes, evidence, plan only). */
function delivered(task: Task): boolean {
  const d = deliveryOf(task.result);
  return Boolean(d && (d.changes || d.verification || d.plan_only));
}

/** After approval a ticket has a task per spec task: their state, changes and evidence at a glance. */
function TaskRuns({ tasks, onOpen }: { tasks: Task[]; onOpen: (task: Task) => void }) {
  return (
    <section className="card" aria-label="Tasks">
      <h2>Tasks</h2>
      <div className="table-scroll">
        <table className="runs">
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Status</th>
              <th scope="col" className="col-branch">
                Branch
              </th>
              <th scope="col">Changes</th>
              <th scope="col">Evidence</th>
            </tr>
          </thead>
          <tbody>
            {[...tasks].sort(bySpecTask).map((task) => (
              <tr key={task.id} data-task={task.spec_task_id ?? task.id}>
                <td>
                  <button type="button" className="link" onClick={() => onOpen(task)}>
                    {task.spec_task_id ? <code>{task.spec_task_id}</code> : null} {runTitle(task)}
                  </button>
                  {task.error ? <div className="error small">{task.error}</div> : null}
                </td>
                <td>
                  <StatusBadge status={taskStatus(task)} />
                </td>
                <td className="col-branch">
                  {task.branch ? <code className="wrap">{task.branch}</code> : '—'}
                </td>
                <td>
                  <ChangeCounts result={task.result} />
                </td>
                <td>
                  <EvidenceBadge result={task.result} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The platform ticket's spec tickets (`TKT-CSV001-001`), each a link to its place in the Tasks tab. */
function SpecTicketLinks({ docs, onOpen }: { docs: SpecDocument[]; onOpen: () => void }) {
  const tickets = docs.filter((d) => d.kind === 'ticket');
  if (tickets.length === 0) return null;
  return (
    <p className="muted small spec-links">
      Spec ticket{tickets.length === 1 ? '' : 's'}:{' '}
      {tickets.map((d, i) => (
        <span key={d.spec_id}>
          {i > 0 ? ', ' : null}
          <button type="button" className="link" onClick={onOpen}>
            <code>{d.spec_id}</code>
          </button>
        </span>
      ))}
    </p>
  );
}

function TicketView({ id }: { id: string }) {
  const client = useQueryClient();
  const ticket = useTicket(id);
  const specs = useTicketSpecs(id);
  const [timeline, dispatch] = useReducer(timelineReducer, initialTimeline);
  const [confirming, setConfirming] = useState(false);
  const [tab, setTab] = useState<Tab>('Requirements');
  // the open task: a spec task id (TSK-…) or, for a run without one, the platform task's id
  const [opened, setOpened] = useState<string | null>(null);
  const health = useHealth();
  const trace = useTicketTrace(id);

  useEffect(() => {
    if (ticket.data?.events.length) dispatch({ type: 'received', events: ticket.data.events });
  }, [ticket.data]);

  const onEvents = useCallback(
    (events: OmoiEvent[]) => {
      dispatch({ type: 'received', events });
      if (events.some((e) => REFRESHING.test(e.type))) {
        // the ticket's key is a prefix of its specs' and trace's: all three refresh
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
  const { questions, answer } = useTicketQuestions(ticket.data, timeline.events);
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
  const traced = trace.data ?? null;
  const pullRequest = t.pull_request ?? traced?.pull_request ?? null;
  const integrationBranch = traced?.integration?.branch ?? pullRequest?.head ?? null;
  const hasSpec = t.workflow_mode === 'spec_driven' || docs.length > 0;
  const showRuns = t.tasks.length > 1 || t.tasks.some(delivered);
  const requirementItems = docs.flatMap((d) => (d.kind === 'requirements' ? (d.items ?? []) : []));
  const openedRun = opened
    ? (t.tasks.find((task) => task.spec_task_id === opened) ??
      t.tasks.find((task) => task.id === opened) ??
      null)
    : null;
  const openedDoc = opened
    ? (docs.find((d) => d.kind === 'task' && d.spec_id === (openedRun?.spec_task_id ?? opened)) ?? null)
    : null;
  const specTitle = (specId: string) =>
    docs.find((d) => d.kind === 'task' && d.spec_id === specId)?.title ?? undefined;

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
          <SpecTicketLinks
            docs={docs}
            onOpen={() => {
              setTab('Tasks');
              document.getElementById('spec-views')?.scrollIntoView({ block: 'start' });
            }}
          />
          {pullRequest || integrationBranch ? (
            <p className="small delivery-head">
              <PullRequestLink pr={pullRequest} />
              {integrationBranch ? (
                <>
                  {' '}
                  <span className="muted">integration branch</span>{' '}
                  <code className="wrap">{integrationBranch}</code>
                </>
              ) : null}
            </p>
          ) : null}
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
      <QuestionList questions={questions} onAnswer={answer} />
      <RunFacts summary={summary} />
      {showRuns ? (
        <TaskRuns tasks={t.tasks} onOpen={(task) => setOpened(task.spec_task_id ?? task.id)} />
      ) : null}
      {opened ? (
        <TaskPanel
          doc={openedDoc}
          run={openedRun}
          requirements={requirementItems}
          titleOf={specTitle}
          question={
            openedRun
              ? (questions.find((q) => q.task_id === openedRun.id && q.status === 'open') ?? null)
              : null
          }
          onOpen={setOpened}
          onClose={() => setOpened(null)}
        />
      ) : null}
      <div className={`ticket-grid${hasSpec ? '' : ' single'}`}>
        <Timeline state={timeline} tasks={t.tasks} />
        {hasSpec ? (
          specs.error ? (
            <ErrorState error={specs.error} retry={() => specs.refetch()} />
          ) : (
            <div id="spec-views">
              <SpecTabs
                docs={docs}
                validation={summary.validation}
                runs={t.tasks}
                trace={traced}
                ticketRef={t.ref}
                onOpenTask={setOpened}
                tab={tab}
                onTabChange={setTab}
              />
            </div>
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
