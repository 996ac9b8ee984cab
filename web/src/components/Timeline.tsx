import type { OmoiEvent } from '../api/types';
import { describeEvent, type TimelineState } from '../timeline/timeline-reducer';
import { ValidationIssues } from './ValidationIssues';

function time(ts: string | undefined): string {
  if (!ts) return '';
  const date = new Date(ts);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString();
}

function TimelineEntry({ event }: { event: OmoiEvent }) {
  const view = describeEvent(event);
  return (
    <li className={`event tone-${view.tone}`} data-type={event.type} data-event-id={String(event.id)}>
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
          {state.events.map((event) => (
            <TimelineEntry key={String(event.id)} event={event} />
          ))}
        </ol>
      )}
    </section>
  );
}
