import type { ReactNode } from 'react';
import type { OmoiEvent, Task } from '../api/types';
import { runTitle, taskStatus } from '../status/status-vocabulary';
import {
  describeEvent,
  groupByTask,
  groupEntries,
  isGroupedTimeline,
  type TaskGroup,
  type TimelineState,
  toolSummary,
} from '../timeline/timeline-reducer';
import { StatusBadge } from './States';
import { ValidationIssues } from './ValidationIssues';

function time(ts: string | undefined): string {
  if (!ts) return '';
  const date = new Date(ts);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString();
}

function TimelineEntry({ event }: { event: OmoiEvent }) {
  const view = describeEvent(event);
  return (
    <li className={`event tone-${view.tone}`} data-type={event.type} data-event-ids={String(event.id)}>
      <span className="event-dot" aria-hidden="true" />
      <div className="event-body">
        <div className="event-head">
          {view.collapsed && view.detail ? (
            <details>
              <summary>{view.title}</summary>
              <pre>{view.detail}</pre>
            </details>
          ) : (
            <span className="event-title">{view.title}</span>
          )}
          <time dateTime={event.ts}>{time(event.ts)}</time>
        </div>
        {view.notes?.map((note) => (
          <div key={note} className="event-note">
            {note}
          </div>
        ))}
        {view.issues && view.issues.length > 0 ? <ValidationIssues issues={view.issues} /> : null}
      </div>
    </li>
  );
}

/** A run of events folded into one line that opens to show them (sandbox logs, tool uses). */
function FoldedEntry({
  events,
  type,
  className = 'event tone-muted',
  summary,
  children,
}: {
  events: OmoiEvent[];
  type: string;
  className?: string;
  summary: ReactNode;
  children: ReactNode;
}) {
  return (
    <li className={className} data-type={type} data-event-ids={events.map((e) => e.id).join(' ')}>
      <span className="event-dot" aria-hidden="true" />
      <div className="event-body">
        <div className="event-head">
          <details>
            <summary>{summary}</summary>
            {children}
          </details>
          <time dateTime={events[0]!.ts}>{time(events[0]!.ts)}</time>
        </div>
      </div>
    </li>
  );
}

function LogEntry({ events }: { events: OmoiEvent[] }) {
  const lines = events.map((e) => (e.type === 'sandbox.log' ? String(e.data.text) : ''));
  return (
    <FoldedEntry
      events={events}
      type="sandbox.log"
      className="event tone-muted log"
      summary={`Sandbox log · ${lines.length} line${lines.length === 1 ? '' : 's'}`}
    >
      <pre>{lines.join('\n')}</pre>
    </FoldedEntry>
  );
}

function ToolsEntry({ events }: { events: OmoiEvent[] }) {
  return (
    <FoldedEntry
      events={events}
      type="agent.tool_use"
      summary={`Tool uses · ${events.length} (${toolSummary(events)})`}
    >
      <ol className="events nested">
        {events.map((event) => (
          <TimelineEntry key={String(event.id)} event={event} />
        ))}
      </ol>
    </FoldedEntry>
  );
}

const CONNECTION: Record<TimelineState['connection'], string> = {
  connecting: 'connecting…',
  open: 'live',
  reconnecting: 'reconnecting…',
};

function Entries({ events, live }: { events: OmoiEvent[]; live?: boolean }) {
  return (
    <ol className="events" aria-live={live ? 'polite' : undefined}>
      {groupEntries(events).map((entry) =>
        entry.kind === 'log' ? (
          <LogEntry key={`log-${entry.events[0]!.id}`} events={entry.events} />
        ) : entry.kind === 'tools' ? (
          <ToolsEntry key={`tools-${entry.events[0]!.id}`} events={entry.events} />
        ) : (
          <TimelineEntry key={String(entry.event.id)} event={entry.event} />
        ),
      )}
    </ol>
  );
}

const UNFINISHED = new Set(['pending', 'claimed', 'running', 'failed', 'blocked']);

function groupTitle(group: TaskGroup): string {
  if (!group.task) return 'Ticket';
  // The integration run has no spec task either, but it is no spec run: its title says what it does.
  if (group.task.task_type === 'integration') return group.task.title;
  if (!group.task.spec_task_id) return `Spec run: ${group.task.title}`;
  return `${group.task.spec_task_id} ${runTitle(group.task)}`;
}

/** One task's entries, folded once the task has finished well; its summary says where it is. */
function Group({ group }: { group: TaskGroup }) {
  const status = group.task ? taskStatus(group.task) : null;
  return (
    <li className="task-group" data-task={group.key} data-event-ids={group.events.map((e) => e.id).join(' ')}>
      <details open={status === null || UNFINISHED.has(status)}>
        <summary>
          <span className="group-title">{groupTitle(group)}</span>{' '}
          {status ? <StatusBadge status={status} /> : null}
          <span className="group-step muted small">
            {group.current} · {group.events.length} event{group.events.length === 1 ? '' : 's'}
          </span>
        </summary>
        <Entries events={group.events} />
      </details>
    </li>
  );
}

/**
 * The ticket's events in order, kept live by the SSE stream. After approval (several tasks at once)
 * they are grouped per task; `tasks` names the groups and gives their status.
 */
export function Timeline({ state, tasks = [] }: { state: TimelineState; tasks?: Task[] }) {
  const grouped = isGroupedTimeline(state.events);
  return (
    <section className="card timeline" aria-label="Timeline">
      <header className="card-head">
        <h2>Timeline</h2>
        <span className={`connection ${state.connection}`} role="status">
          {CONNECTION[state.connection]}
        </span>
      </header>
      {state.events.length === 0 ? (
        <p className="muted">No events yet. They appear here as the run goes.</p>
      ) : grouped ? (
        <ol className="task-groups" aria-live="polite">
          {groupByTask(state.events, tasks).map((group) => (
            <Group key={group.key} group={group} />
          ))}
        </ol>
      ) : (
        <Entries events={state.events} live />
      )}
    </section>
  );
}
