// Browser notifications while the tab is hidden, for what the webhooks also announce (one mapping:
// src/contracts/webhooks.ts): a spec waiting for approval, a ticket done, a task failed, a pull
// request opened; and an agent's question, which waits for a person like an approval does.
// Off until the person turns it on (the browser asks for permission on that click).
import { useCallback, useRef, useState } from 'react';
import { webhookEventOf } from '../../../src/contracts/webhooks';
import { eventsUrl } from '../api/client';
import type { OmoiEvent } from '../api/types';
import { navigate } from '../lib/router';
import { useEventStream } from '../timeline/use-event-stream';

export const NOTIFY_STORAGE_KEY = 'omoi.notifications';

export interface BrowserNotice {
  title: string;
  body: string;
  /** One notice per ticket and kind: a newer one replaces it. */
  tag: string;
  /** Where a click goes. */
  path: string | null;
}

/** The notice an event deserves, or null. */
export function noticeFor(event: OmoiEvent): BrowserNotice | null {
  const path = event.ticket_id ? `/tickets/${event.ticket_id}` : null;
  if (event.type === 'agent.question') {
    const d = event.data;
    return {
      title: d.kind === 'budget' ? 'Omoi: a budget question needs your answer' : 'Omoi: an agent asks',
      body: d.question.slice(0, 200),
      // one notice per question: two tasks asking are two things to answer
      tag: `question:${d.question_id}`,
      path,
    };
  }
  const kind = webhookEventOf(event);
  if (!kind) return null;
  const data = event.data as Record<string, unknown>;
  const tag = `${kind}:${event.ticket_id ?? event.task_id ?? event.id}`;
  switch (kind) {
    case 'ticket.needs_input':
      return {
        title: 'Omoi: a spec waits for your approval',
        body: 'Review the spec and approve it.',
        tag,
        path,
      };
    case 'ticket.done':
      return { title: 'Omoi: ticket done', body: 'Every task of the ticket finished.', tag, path };
    case 'task.failed':
      return {
        title: 'Omoi: a task failed',
        body: String(data.error ?? 'see the timeline').slice(0, 200),
        tag,
        path,
      };
    case 'pr.opened':
      return { title: 'Omoi: pull request opened', body: String(data.url ?? ''), tag, path };
    default:
      return null;
  }
}

/** Only events that happen while the tab is hidden, and not the stream's replay of older ones. */
export function shouldNotify(event: OmoiEvent, state: { hidden: boolean; since: number }): boolean {
  return state.hidden && Date.parse(event.ts) >= state.since;
}

const supported = () => typeof window !== 'undefined' && 'Notification' in window;

/** The toggle in the top bar; while on, it follows every event the key may read. */
export function NotificationsToggle() {
  const [on, setOn] = useState(
    () =>
      supported() &&
      Notification.permission === 'granted' &&
      localStorage.getItem(NOTIFY_STORAGE_KEY) === 'on',
  );
  // The replay the stream sends on connect is history, not news.
  const since = useRef(Date.now());
  const onEvents = useCallback((events: OmoiEvent[]) => {
    for (const event of events) {
      if (!shouldNotify(event, { hidden: document.visibilityState === 'hidden', since: since.current }))
        continue;
      const notice = noticeFor(event);
      if (!notice) continue;
      const shown = new Notification(notice.title, { body: notice.body, tag: notice.tag });
      shown.onclick = () => {
        window.focus();
        if (notice.path) navigate(notice.path);
        shown.close();
      };
    }
  }, []);
  useEventStream(on ? eventsUrl({}) : null, onEvents);
  if (!supported()) return null;
  return (
    <button
      type="button"
      className="notify-toggle"
      aria-pressed={on}
      title="Notify me while this tab is in the background: agents' questions, approvals waiting, tickets done, tasks failed, pull requests"
      onClick={async () => {
        if (on) {
          localStorage.setItem(NOTIFY_STORAGE_KEY, 'off');
          setOn(false);
          return;
        }
        const permission = await Notification.requestPermission();
        const granted = permission === 'granted';
        localStorage.setItem(NOTIFY_STORAGE_KEY, granted ? 'on' : 'off');
        since.current = Date.now();
        setOn(granted);
      }}
    >
      {on ? 'Notifications on' : 'Notify me'}
    </button>
  );
}
