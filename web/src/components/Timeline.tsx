import type { OmoiEvent } from '../api/types';
import { describeEvent, groupEntries, type TimelineState, toolSummary } from '../timeline/timeline-reducer';
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

function LogEntry({ events }: { events: OmoiEvent[] }) {
  const lines = events.map((e) => (e.type === 'sandbox.log' ? String(e.data.text) : ''));
  return (
    <li
      className="event tone-muted log"
      data-type="sandbox.log"
      data-event-ids={events.map((e) => e.id).join(' ')}
    >
      <span className="event-dot" aria-hidden="true" />
      <div className="event-body">
        <div className="event-head">
          <details>
            <summary>
              Sandbox log · {lines.length} line{lines.length === 1 ? '' : 's'}
            </summary>
            <pre>{lines.join('\n')}</pre>
          </details>
          <time dateTime={events[0]!.ts}>{time(events[0]!.ts)}</time>
        </div>
      </div>
    </li>
  );
}

function ToolsEntry({ events }: { events: OmoiEvent[] }) {
  return (
    <li
      className="event tone-muted"
      data-type="agent.tool_use"
      data-event-ids={events.map((e) => e.id).join(' ')}
    >
      <span className="event-dot" aria-hidden="true" />
      <div className="event-body">
        <div className="event-head">
          <details>
            <summary>
              Tool uses · {events.length} ({toolSummary(events)})
            </summary>
            <ol className="events nested">
              {events.map((event) => (
                <TimelineEntry key={String(event.id)} event={event} />
              ))}
            </ol>
          </details>
          <time dateTime={events[0]!.ts}>{time(events[0]!.ts)}</time>
        </div>
      </div>
    </li>
  );
}

const CONNECTION: Record<TimelineState['connection'], string> = {
  connecting: 'connecting…',
  open: 'live',
  reconnecting: 'reconnecting…',
};

/** The ticket's events in order, kept live by the SSE stream. */
export function Timeline({ state }: { state: TimelineState }) {
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
      ) : (
        <ol className="events" aria-live="polite">
          {groupEntries(state.events).map((entry) =>
            entry.kind === 'log' ? (
              <LogEntry key={`log-${entry.events[0]!.id}`} events={entry.events} />
            ) : entry.kind === 'tools' ? (
              <ToolsEntry key={`tools-${entry.events[0]!.id}`} events={entry.events} />
            ) : (
              <TimelineEntry key={String(entry.event.id)} event={entry.event} />
            ),
          )}
        </ol>
      )}
    </section>
  );
}
