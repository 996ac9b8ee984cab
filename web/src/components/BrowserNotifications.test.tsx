// @vitest-environment happy-dom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OmoiEvent } from '../api/types';
import { NOTIFY_STORAGE_KEY, NotificationsToggle, noticeFor, shouldNotify } from './BrowserNotifications';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const event = (type: string, data: Record<string, unknown>, ts = new Date().toISOString()) =>
  ({ id: 7, type, ts, project_id: 'p', ticket_id: 't1', task_id: 'k1', data }) as unknown as OmoiEvent;

describe('browser notifications', () => {
  it('announce what the webhooks announce, and nothing else', () => {
    expect(
      noticeFor(event('ticket.status_changed', { from: 'analyzing', to: 'awaiting_approval' })),
    ).toMatchObject({
      title: 'Omoi: a spec waits for your approval',
      path: '/tickets/t1',
    });
    expect(noticeFor(event('ticket.status_changed', { from: 'testing', to: 'done' }))?.title).toBe(
      'Omoi: ticket done',
    );
    expect(noticeFor(event('task.failed', { error: 'tests failed' }))?.body).toBe('tests failed');
    expect(noticeFor(event('ticket.status_changed', { from: 'backlog', to: 'building' }))).toBeNull();
    expect(noticeFor(event('agent.message', { text: 'hi' }))).toBeNull();
  });

  it("announce an agent's question, one notice per question, leading to its ticket", () => {
    const asks = (question_id: string, kind: string) =>
      event('agent.question', { question_id, kind, question: 'CSV or TSV?', options: ['CSV'], why: null });
    expect(noticeFor(asks('q1', 'agent'))).toEqual({
      title: 'Omoi: an agent asks',
      body: 'CSV or TSV?',
      tag: 'question:q1',
      path: '/tickets/t1',
    });
    expect(noticeFor(asks('q2', 'agent'))?.tag).toBe('question:q2');
    expect(noticeFor(asks('q3', 'budget'))?.title).toBe('Omoi: a budget question needs your answer');
    expect(noticeFor(event('question.answered', { question_id: 'q1', answer: 'CSV', by: 'me' }))).toBeNull();
  });

  it('only while the tab is hidden, and never for the replay of older events', () => {
    const now = Date.now();
    const fresh = event('task.failed', { error: 'x' }, new Date(now).toISOString());
    const old = event('task.failed', { error: 'x' }, new Date(now - 60_000).toISOString());
    expect(shouldNotify(fresh, { hidden: true, since: now - 1000 })).toBe(true);
    expect(shouldNotify(fresh, { hidden: false, since: now - 1000 })).toBe(false);
    expect(shouldNotify(old, { hidden: true, since: now - 1000 })).toBe(false);
  });

  describe('the toggle', () => {
    let root: Root;
    let host: HTMLElement;
    let asked = 0;
    beforeEach(() => {
      // The browser's permission prompt cannot run here: a stand-in answers "granted".
      asked = 0;
      (window as unknown as { Notification: unknown }).Notification = Object.assign(function stand_in() {}, {
        permission: 'default',
        requestPermission: async () => {
          asked += 1;
          return 'granted';
        },
      });
      localStorage.clear();
      host = document.createElement('div');
      document.body.append(host);
      root = createRoot(host);
    });
    afterEach(() => {
      act(() => root.unmount());
      host.remove();
    });

    it('asks for permission on the click and remembers the choice', async () => {
      act(() => root.render(<NotificationsToggle />));
      const button = host.querySelector('button')!;
      expect(button.textContent).toBe('Notify me');
      await act(async () => button.click());
      expect(asked).toBe(1);
      expect(button.textContent).toBe('Notifications on');
      expect(localStorage.getItem(NOTIFY_STORAGE_KEY)).toBe('on');
      await act(async () => button.click());
      expect(button.textContent).toBe('Notify me');
      expect(localStorage.getItem(NOTIFY_STORAGE_KEY)).toBe('off');
    });
  });
});
