import type { Question } from '../api/types';

/** An open question of an agent, as the API returns it, for the web's tests; `over` changes fields. */
export function questionFixture(over: Partial<Question> = {}): Question {
  return {
    id: 'q1',
    project_id: 'p',
    ticket_id: 't',
    task_id: 'k1',
    ticket_ref: 'TKT-001',
    task_title: 'Write the spec',
    kind: 'agent',
    question: 'Should the export be CSV or TSV?',
    options: [],
    why: null,
    status: 'open',
    answer: null,
    answered_by: null,
    asked_at: '2026-12-02T18:00:00Z',
    answered_at: null,
    ...over,
  };
}
