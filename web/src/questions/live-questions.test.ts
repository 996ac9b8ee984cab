import { describe, expect, it } from 'vitest';
import type { OmoiEvent, Question } from '../api/types';
import { liveQuestions } from './live-questions';
import { questionFixture } from './question-fixture';

const ticket = {
  id: 't',
  ref: 'TKT-001',
  project_id: 'p',
  tasks: [
    { id: 'k1', title: 'Write the spec' },
    { id: 'k2', title: 'Add the export' },
  ],
};

const ev = (
  id: number,
  type: string,
  data: Record<string, unknown>,
  task_id = 'k1',
  ts = `2026-12-02T18:0${id}:00Z`,
) => ({ id, type, ts, project_id: 'p', ticket_id: 't', task_id, data }) as unknown as OmoiEvent;

const asked = (id: number, qid: string, task = 'k1') =>
  ev(
    id,
    'agent.question',
    { question_id: qid, kind: 'agent', question: `question ${qid}`, options: ['a'], why: 'w' },
    task,
  );

const stored = (over: Partial<Question>): Question =>
  questionFixture({ id: 'q0', question: 'stored', asked_at: '2026-12-02T17:00:00Z', ...over });

describe('liveQuestions', () => {
  it("makes an open question of an agent.question the server's list does not hold yet", () => {
    const [q] = liveQuestions([], [asked(1, 'q1', 'k2')], ticket);
    expect(q).toMatchObject({
      id: 'q1',
      task_id: 'k2',
      task_title: 'Add the export',
      ticket_ref: 'TKT-001',
      status: 'open',
      question: 'question q1',
      options: ['a'],
      why: 'w',
      asked_at: '2026-12-02T18:01:00Z',
    });
  });

  it('marks a question answered by question.answered, with the answer and who gave it', () => {
    const events = [
      asked(1, 'q1'),
      ev(2, 'question.answered', { question_id: 'q1', answer: 'CSV', by: 'alice' }),
    ];
    expect(liveQuestions([], events, ticket)[0]).toMatchObject({
      status: 'answered',
      answer: 'CSV',
      answered_by: 'alice',
      answered_at: '2026-12-02T18:02:00Z',
    });
  });

  it("keeps the server's copy over the event's, and never reopens an answered one", () => {
    const server = stored({
      id: 'q1',
      question: 'as stored',
      status: 'answered',
      answer: 'TSV',
      answered_by: 'bob',
    });
    const events = [
      asked(1, 'q1'),
      ev(2, 'question.answered', { question_id: 'q1', answer: 'CSV', by: 'alice' }),
    ];
    expect(liveQuestions([server], events, ticket)).toEqual([server]);
  });

  it('puts open questions first, the oldest first, then the answered ones, the latest first', () => {
    const questions = liveQuestions(
      [
        stored({ id: 'old-answer', status: 'answered', answered_at: '2026-12-02T17:10:00Z' }),
        stored({ id: 'new-answer', status: 'answered', answered_at: '2026-12-02T17:20:00Z' }),
        stored({ id: 'open-stored', asked_at: '2026-12-02T17:30:00Z' }),
      ],
      [asked(5, 'open-live', 'k2')],
      ticket,
    );
    expect(questions.map((q) => q.id)).toEqual(['open-stored', 'open-live', 'new-answer', 'old-answer']);
  });
});
