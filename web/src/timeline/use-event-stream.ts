import { useEffect, useRef } from 'react';
import type { OmoiEvent } from '../api/types';

export type StreamStatus = 'connecting' | 'open' | 'reconnecting';

function parseFrame(frame: MessageEvent<string>): OmoiEvent | null {
  let payload: unknown;
  try {
    payload = JSON.parse(frame.data);
  } catch {
    return null;
  }
  if (!payload || typeof payload !== 'object') return null;
  // The server's frames are `id: N` and `data: <the event as JSON>` (src/core/events.ts sseFrame).
  const event = payload as Partial<OmoiEvent>;
  if (typeof event.type !== 'string' || typeof event.id !== 'number') return null;
  return event as OmoiEvent;
}

interface Listener {
  onEvents: (events: OmoiEvent[]) => void;
  onStatus?: ((status: StreamStatus) => void) | undefined;
}

interface SharedStream {
  listeners: Set<Listener>;
  status: StreamStatus;
  close: () => void;
}

// One connection per URL, however many components follow it: the top bar's inbox, the browser
// notifications and the board all follow every event, and a browser gives a site only six HTTP/1.1
// connections, which the page's own requests need too.
const streams = new Map<string, SharedStream>();

/** How many connections are open (tests). */
export function openStreamCount(): number {
  return streams.size;
}

function openStream(url: string): SharedStream {
  const shared: SharedStream = { listeners: new Set(), status: 'connecting', close: () => {} };
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let delay = 1000;
  let stopped = false;
  let lastId = 0;

  const setStatus = (status: StreamStatus) => {
    shared.status = status;
    for (const listener of shared.listeners) listener.onStatus?.(status);
  };
  const onFrame = (frame: Event) => {
    const event = parseFrame(frame as MessageEvent<string>);
    if (!event) return;
    lastId = Math.max(lastId, Number(event.id) || 0);
    for (const listener of shared.listeners) listener.onEvents([event]);
  };
  const open = () => {
    // a new EventSource cannot send Last-Event-ID itself: the server takes it as a parameter
    const resume = lastId > 0 ? `${url.includes('?') ? '&' : '?'}last_event_id=${lastId}` : '';
    const current = new EventSource(url + resume);
    source = current;
    current.onopen = () => {
      delay = 1000;
      setStatus('open');
    };
    current.onmessage = onFrame;
    current.onerror = () => {
      if (stopped) return;
      setStatus('reconnecting');
      if (current.readyState === EventSource.CLOSED) {
        current.close();
        timer = setTimeout(open, delay);
        delay = Math.min(delay * 2, 15_000);
      }
    };
  };
  shared.close = () => {
    stopped = true;
    clearTimeout(timer);
    source?.close();
  };
  open();
  return shared;
}

/**
 * Follows an SSE stream of Omoi events. The browser's EventSource reconnects by itself after a
 * dropped connection and sends Last-Event-ID, so the server resumes where it stopped; when the
 * stream ends for good (the server refused it or restarted), this opens a new one after a pause
 * that grows to 15 s, resuming after the last id seen (`last_event_id`). Callers still dedupe by
 * event id (see timeline-reducer): whatever a server replays, nothing shows twice.
 *
 * Components that follow the same URL share one connection; one that joins later gets the events
 * from then on (not the replay the connection started with), so it reads the past from the API.
 */
export function useEventStream(
  url: string | null,
  onEvents: (events: OmoiEvent[]) => void,
  onStatus?: (status: StreamStatus) => void,
): void {
  const handlers = useRef({ onEvents, onStatus });
  handlers.current = { onEvents, onStatus };

  useEffect(() => {
    if (!url || typeof EventSource === 'undefined') return;
    const listener: Listener = {
      onEvents: (events) => handlers.current.onEvents(events),
      onStatus: (status) => handlers.current.onStatus?.(status),
    };
    let shared = streams.get(url);
    if (!shared) {
      shared = openStream(url);
      streams.set(url, shared);
    }
    shared.listeners.add(listener);
    listener.onStatus?.(shared.status);
    const joined = shared;
    return () => {
      joined.listeners.delete(listener);
      if (joined.listeners.size === 0) {
        joined.close();
        if (streams.get(url) === joined) streams.delete(url);
      }
    };
  }, [url]);
}
