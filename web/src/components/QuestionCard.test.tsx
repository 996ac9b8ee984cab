// @vitest-environment happy-dom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Question } from '../api/types';
import { questionFixture } from '../questions/question-fixture';
import { QuestionCard, QuestionList } from './QuestionCard';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const question = (over: Partial<Question> = {}): Question =>
  questionFixture({
    task_title: 'Write the spec for TKT-001',
    options: ['CSV', 'TSV'],
    why: 'The ticket says "spreadsheet" but names no format.',
    ...over,
  });

/** Sets a textarea's value the way typing does, so React's onChange sees it. */
function type(area: HTMLTextAreaElement, value: string) {
  const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
  setter.call(area, value);
  area.dispatchEvent(new Event('input', { bubbles: true }));
}

describe('QuestionCard', () => {
  let root: Root;
  let host: HTMLElement;
  let sent: string[];
  beforeEach(() => {
    sent = [];
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
  });
  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });

  const render = (q: Question, onAnswer = async (a: string) => void sent.push(a)) =>
    act(() => root.render(<QuestionCard question={q} onAnswer={onAnswer} />));

  it('shows the question, why it asks, and its options; an option answers in one click', async () => {
    render(question());
    const card = host.querySelector('section')!;
    const heading = host.querySelector('h2')!;
    expect(card.getAttribute('aria-labelledby')).toBe(heading.id);
    expect(heading.textContent).toBe('The agent asks');
    expect(card.textContent).toContain('Should the export be CSV or TSV?');
    expect(card.textContent).toContain('Why it asks: The ticket says "spreadsheet" but names no format.');
    expect(card.querySelector('.badge.status')?.textContent).toBe('needs your answer');
    const group = card.querySelector('fieldset')!;
    expect(group.querySelector('legend')?.textContent).toBe('Answer with one click');
    const options = [...group.querySelectorAll('button')];
    expect(options.map((b) => b.textContent)).toEqual(['CSV', 'TSV']);
    await act(async () => options[1]!.click());
    expect(sent).toEqual(['TSV']);
  });

  it('sends a free-text answer with its label, by button or Ctrl+Enter, and not an empty one', async () => {
    render(question({ options: [] }));
    const area = host.querySelector('textarea')!;
    const label = host.querySelector(`label[for="${area.id}"]`);
    expect(label?.textContent).toBe('Your answer');
    const send = host.querySelector<HTMLButtonElement>('button[type="submit"]')!;
    expect(send.disabled).toBe(true);
    act(() => type(area, '   '));
    expect(send.disabled).toBe(true);
    act(() => type(area, '  TSV, with a header row  '));
    expect(send.disabled).toBe(false);
    await act(async () => send.click());
    expect(sent).toEqual(['TSV, with a header row']);
    expect(area.value).toBe('');

    act(() => type(area, 'and quote every field'));
    await act(async () => {
      area.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', ctrlKey: true, bubbles: true }));
    });
    expect(sent).toEqual(['TSV, with a header row', 'and quote every field']);
  });

  it("shows the server's refusal and keeps the answer to send again", async () => {
    render(question({ options: [] }), async () => {
      throw new Error('the task has no open question');
    });
    const area = host.querySelector('textarea')!;
    act(() => type(area, 'CSV'));
    await act(async () => host.querySelector<HTMLButtonElement>('button[type="submit"]')!.click());
    expect(host.querySelector('[role="alert"]')?.textContent).toBe('the task has no open question');
    expect(area.value).toBe('CSV');
  });

  it('once answered, shows the answer and who gave it, and no form', () => {
    render(
      question({
        status: 'answered',
        answer: 'CSV',
        answered_by: 'alice',
        answered_at: '2026-12-02T18:05:00Z',
      }),
    );
    expect(host.querySelector('h2')?.textContent).toBe('The agent asked');
    expect(host.querySelector('form')).toBeNull();
    expect(host.querySelector('fieldset')).toBeNull();
    expect(host.textContent).toContain('Answer: CSV');
    expect(host.textContent).toContain('Answered by alice');
  });

  it('names a budget question as one', () => {
    render(
      question({
        kind: 'budget',
        question: 'The task spent 80% of its cap. Continue?',
        options: ['yes', 'no'],
      }),
    );
    expect(host.querySelector('h2')?.textContent).toBe('Budget: continue?');
  });

  it('lists cards in the order given and says how many wait, for screen readers', () => {
    act(() =>
      root.render(
        <QuestionList
          questions={[
            question(),
            question({ id: 'q2', status: 'answered', answer: 'x', answered_by: 'bob' }),
          ]}
          onAnswer={async () => {}}
        />,
      ),
    );
    const cards = [...host.querySelectorAll('[data-question]')].map((e) => e.getAttribute('data-question'));
    expect(cards).toEqual(['q1', 'q2']);
    expect(host.querySelector('.questions')?.getAttribute('aria-live')).toBe('polite');
    expect(host.querySelector('.visually-hidden')?.textContent).toBe('One question waits for your answer.');
    act(() => root.render(<QuestionList questions={[]} onAnswer={async () => {}} />));
    expect(host.innerHTML).toBe('');
  });
});
