// @vitest-environment happy-dom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Question } from '../api/types';
import { questionFixture } from '../questions/question-fixture';
import { InboxButton } from './InboxMenu';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const question = (id: string, over: Partial<Question> = {}): Question =>
  questionFixture({
    id,
    ticket_id: `ticket-${id}`,
    task_id: `task-${id}`,
    ticket_ref: 'TKT-007',
    task_title: 'Add the export',
    question: `Which format, ${id}?`,
    ...over,
  });

describe('the inbox in the top bar', () => {
  let root: Root;
  let host: HTMLElement;
  beforeEach(() => {
    window.history.replaceState(null, '', '/board');
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
  });
  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });

  const toggle = () => host.querySelector<HTMLButtonElement>('.inbox-toggle')!;

  it('counts the open questions in its name, and lists them on a click, each a link to its ticket', () => {
    act(() => root.render(<InboxButton questions={[question('a'), question('b', { kind: 'budget' })]} />));
    expect(toggle().textContent).toBe('Inbox 2 questions wait for you');
    expect(toggle().getAttribute('aria-expanded')).toBe('false');
    expect(host.querySelector('.inbox-panel')).toBeNull();

    act(() => toggle().click());
    expect(toggle().getAttribute('aria-expanded')).toBe('true');
    const panel = host.querySelector('.inbox-panel')!;
    expect(toggle().getAttribute('aria-controls')).toBe(panel.id);
    const links = [...panel.querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['/tickets/ticket-a', '/tickets/ticket-b']);
    expect(links[0]?.textContent).toBe('TKT-007 Add the export');
    expect(panel.textContent).toContain('Which format, a?');
    expect(panel.querySelector('li[data-question="b"] .badge')?.textContent).toBe('budget');

    // following a link goes to the ticket and closes the list
    act(() =>
      links[1]!.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, button: 0 })),
    );
    expect(window.location.pathname).toBe('/tickets/ticket-b');
    expect(host.querySelector('.inbox-panel')).toBeNull();
  });

  it('closes on Escape, giving the focus back to the toggle, and on a click elsewhere', () => {
    act(() => root.render(<InboxButton questions={[question('a')]} />));
    expect(toggle().textContent).toBe('Inbox 1 question waits for you');
    act(() => toggle().click());
    const link = host.querySelector<HTMLAnchorElement>('.inbox-panel a')!;
    link.focus();
    act(() => link.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true })));
    expect(host.querySelector('.inbox-panel')).toBeNull();
    expect(document.activeElement).toBe(toggle());

    act(() => toggle().click());
    expect(host.querySelector('.inbox-panel')).not.toBeNull();
    act(() => document.body.dispatchEvent(new MouseEvent('mousedown', { bubbles: true })));
    expect(host.querySelector('.inbox-panel')).toBeNull();
  });

  it('says when nothing waits', () => {
    act(() => root.render(<InboxButton questions={[]} />));
    expect(toggle().className).not.toContain('has-open');
    act(() => toggle().click());
    expect(host.querySelector('.inbox-panel')?.textContent).toBe('No question waits for you.');
  });
});
