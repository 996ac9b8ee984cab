import { describe, expect, it } from 'vitest';
import type { Question } from '../contracts/questions.js';
import { answerCommand, chooseQuestion, questionLines, taskLabel } from './questions.js';

const question = (id: string, task_id: string, over: Partial<Question> = {}): Question => ({
  id,
  project_id: 'p',
  ticket_id: 't',
  task_id,
  ticket_ref: 'TKT-001',
  task_title: 'a task',
  kind: 'agent',
  question: `question ${id}`,
  options: [],
  why: null,
  status: 'open',
  answer: null,
  answered_by: null,
  asked_at: '2026-12-02T18:00:00Z',
  answered_at: null,
  ...over,
});

const tasks = [
  { id: 'aaaaaaaa-1111-4000-8000-000000000001', spec_task_id: 'TSK-001', task_type: 'implementation' },
  { id: 'bbbbbbbb-2222-4000-8000-000000000002', spec_task_id: 'TSK-002', task_type: 'implementation' },
  { id: 'cccccccc-3333-4000-8000-000000000003', spec_task_id: null, task_type: 'integration' },
];
const [a, b] = [tasks[0]!.id, tasks[1]!.id];

describe('chooseQuestion', () => {
  it('takes the only open question, ignoring answered ones', () => {
    const choice = chooseQuestion([question('old', a, { status: 'answered' }), question('q', b)], tasks);
    expect(choice).toMatchObject({ ok: true, question: { id: 'q' } });
  });

  it('says none is open, and asks for a task when several are', () => {
    expect(chooseQuestion([question('old', a, { status: 'cancelled' })], tasks)).toMatchObject({
      ok: false,
      reason: 'none',
    });
    const several = chooseQuestion([question('q1', a), question('q2', b)], tasks);
    expect(several).toMatchObject({ ok: false, reason: 'several' });
    expect(several.ok ? [] : several.open.map((q) => q.id)).toEqual(['q1', 'q2']);
  });

  it('picks by task id, a unique start of it, or the spec task id; anything else names no question', () => {
    const open = [question('q1', a), question('q2', b)];
    expect(chooseQuestion(open, tasks, b)).toMatchObject({ ok: true, question: { id: 'q2' } });
    expect(chooseQuestion(open, tasks, 'TSK-001')).toMatchObject({ ok: true, question: { id: 'q1' } });
    expect(chooseQuestion(open, tasks, 'bbbbbbbb')).toMatchObject({ ok: true, question: { id: 'q2' } });
    // too short to be taken for an id, and a task without an open question
    expect(chooseQuestion(open, tasks, 'bbb')).toMatchObject({ ok: false, reason: 'unknown_task' });
    expect(chooseQuestion(open, tasks, tasks[2]!.id)).toMatchObject({ ok: false, reason: 'unknown_task' });
  });
});

describe('questions as text', () => {
  it('shows the question, why, options and the answer once given', () => {
    expect(
      questionLines(
        question('q', a, { question: 'CSV\nor TSV?', why: 'no  format\ngiven', options: ['CSV', 'TSV'] }),
      ),
    ).toEqual(['  ? CSV', '    or TSV?', '    why: no format given', '    options: CSV | TSV']);
    expect(
      questionLines(question('q', a, { status: 'answered', answer: 'CSV', answered_by: 'alice' }), ''),
    ).toEqual(['? question q', '  answered by alice: CSV']);
  });

  it('names a task by its spec task id, else its kind, and writes the answer command', () => {
    expect(taskLabel(question('q', a), tasks)).toBe('TSK-001');
    expect(taskLabel(question('q', tasks[2]!.id), tasks)).toBe('integration');
    expect(answerCommand('TKT-001', { task_id: a }, false)).toBe('omoi ticket answer TKT-001 "<answer>"');
    expect(answerCommand('TKT-001', { task_id: a }, true)).toBe(
      `omoi ticket answer TKT-001 --task ${a} "<answer>"`,
    );
  });
});
