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

/**
 * Follows an SSE stream of Omoi events. The browser's EventSource reconnects by itself after a
 * dropped connection and sends Last-Event-ID, so the server resumes where it stopped; when the
 * stream ends for good (the server refused it or restarted), this opens a new one after a pause
 * that grows to 15 s, resuming after the last id seen (`last_event_id`). Callers still dedupe by
 * event id (see timeline-reducer): whatever a server replays, nothing shows twice.
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
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = 1000;
    let stopped = false;

    let lastId = 0;

    const onFrame = (frame: Event) => {
      const event = parseFrame(frame as MessageEvent<string>);
      if (!event) return;
      lastId = Math.max(lastId, Number(event.id) || 0);
      handlers.current.onEvents([event]);
    };
    const open = () => {
      // a new EventSource cannot send Last-Event-ID itself: the server takes it as a parameter
      const resume = lastId > 0 ? `${url.includes('?') ? '&' : '?'}last_event_id=${lastId}` : '';
      const current = new EventSource(url + resume);
      source = current;
      current.onopen = () => {
        delay = 1000;
        handlers.current.onStatus?.('open');
      };
      current.onmessage = onFrame;
      current.onerror = () => {
        if (stopped) return;
        handlers.current.onStatus?.('reconnecting');
        if (current.readyState === EventSource.CLOSED) {
          current.close();
          timer = setTimeout(open, delay);
          delay = Math.min(delay * 2, 15_000);
        }
      };
    };
    handlers.current.onStatus?.('connecting');
    open();
    return () => {
      stopped = true;
      clearTimeout(timer);
      source?.close();
    };
  }, [url]);
}
