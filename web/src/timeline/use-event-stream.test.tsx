// @vitest-environment happy-dom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OmoiEvent } from '../api/types';
import { openStreamCount, type StreamStatus, useEventStream } from './use-event-stream';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

// The browser's EventSource cannot reach a server here: a stand-in records what is opened and lets
// the test deliver frames.
class StandInSource {
  static CLOSED = 2;
  static opened: StandInSource[] = [];
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((frame: MessageEvent<string>) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    StandInSource.opened.push(this);
  }
  close() {
    this.readyState = StandInSource.CLOSED;
  }
  deliver(event: Partial<OmoiEvent>) {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(event) }));
  }
}

function Follower({ url, seen, statuses }: { url: string; seen: string[]; statuses?: StreamStatus[] }) {
  useEventStream(
    url,
    (events) => seen.push(...events.map((e) => e.type)),
    (status) => statuses?.push(status),
  );
  return null;
}

describe('useEventStream', () => {
  let root: Root;
  beforeEach(() => {
    StandInSource.opened = [];
    (globalThis as { EventSource?: unknown }).EventSource = StandInSource;
    root = createRoot(document.createElement('div'));
  });
  afterEach(() => {
    act(() => root.unmount());
  });

  it('opens one connection per URL for every component that follows it, and closes it with the last', () => {
    const a: string[] = [];
    const b: string[] = [];
    const other: string[] = [];
    const statuses: StreamStatus[] = [];
    act(() =>
      root.render(
        <>
          <Follower url="/api/v1/events" seen={a} />
          <Follower url="/api/v1/events" seen={b} statuses={statuses} />
          <Follower url="/api/v1/events?ticket_id=t" seen={other} />
        </>,
      ),
    );
    expect(StandInSource.opened.map((s) => s.url)).toEqual(['/api/v1/events', '/api/v1/events?ticket_id=t']);
    expect(openStreamCount()).toBe(2);
    const [all, ticket] = StandInSource.opened as [StandInSource, StandInSource];
    act(() => all.onopen?.());
    expect(statuses).toEqual(['connecting', 'open']);
    act(() => all.deliver({ id: 1, type: 'agent.question' }));
    act(() => ticket.deliver({ id: 2, type: 'task.claimed' }));
    expect(a).toEqual(['agent.question']);
    expect(b).toEqual(['agent.question']);
    expect(other).toEqual(['task.claimed']);

    // one follower leaves: the connection stays for the other
    act(() =>
      root.render(
        <>
          <Follower url="/api/v1/events" seen={a} />
        </>,
      ),
    );
    expect(all.readyState).not.toBe(StandInSource.CLOSED);
    expect(ticket.readyState).toBe(StandInSource.CLOSED);
    act(() => all.deliver({ id: 3, type: 'question.answered' }));
    expect(a).toEqual(['agent.question', 'question.answered']);
    expect(b).toEqual(['agent.question']);

    act(() => root.render(null));
    expect(all.readyState).toBe(StandInSource.CLOSED);
    expect(openStreamCount()).toBe(0);
  });
});
