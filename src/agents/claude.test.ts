import { describe, expect, it } from 'vitest';
import { claudeProjectDirName, questionFromAskUserQuestion, restoredCost } from './claude.js';

/** One entry of AskUserQuestion's `questions`, as the model sends it. */
function askEntry(question: string, header: string, labels: string[], multiSelect = false) {
  return {
    question,
    header,
    options: labels.map((label) => ({ label, description: `About ${label}` })),
    multiSelect,
  };
}

const ASK = {
  questions: [askEntry('Which database should the audit log use?', 'Database', ['Postgres', 'SQLite'])],
};

describe('questionFromAskUserQuestion', () => {
  it('keeps one question with its option labels', () => {
    expect(questionFromAskUserQuestion(ASK)).toEqual({
      question: 'Which database should the audit log use?',
      options: ['Postgres', 'SQLite'],
    });
  });

  it('folds several questions into one numbered text with their choices inline', () => {
    const two = {
      questions: [ASK.questions[0], askEntry('Which events?', 'Events', ['Logins', 'Exports'], true)],
    };
    expect(questionFromAskUserQuestion(two)).toEqual({
      question:
        '1. Which database should the audit log use? (Postgres / SQLite)\n2. Which events? (one or more) (Logins / Exports)',
    });
  });

  it('cuts to the question limits and refuses an input without a question', () => {
    const long = questionFromAskUserQuestion({
      questions: [{ question: 'x'.repeat(5000), header: 'h', options: [{ label: 'y'.repeat(600) }] }],
    });
    expect(long?.question).toHaveLength(4000);
    expect(long?.options?.[0]).toHaveLength(500);
    expect(questionFromAskUserQuestion({ questions: [] })).toBeNull();
    expect(questionFromAskUserQuestion({ questions: [{ question: '  ', header: 'h' }] })).toBeNull();
    expect(questionFromAskUserQuestion({ questions: [{ question: ' ', multiSelect: true }] })).toBeNull();
    expect(questionFromAskUserQuestion('Which?')).toBeNull();
  });
});

describe('claudeProjectDirName', () => {
  it('names the folder as the CLI does, hashing paths past 200 characters', () => {
    expect(claudeProjectDirName('/no/such/ws_1.x')).toBe('-no-such-ws-1-x');
    const deep = `/no/${'a'.repeat(250)}`;
    const name = claudeProjectDirName(deep);
    expect(name.slice(0, 201)).toBe(`-no-${'a'.repeat(196)}-`);
    expect(name).toMatch(/^.{201}[0-9a-z]+$/);
  });
});

describe('restoredCost', () => {
  it("reads the session's total from the last cost-state line, and 0 without one", () => {
    const lines = [
      '{"type":"cost-state","totalCostUSD":0.5}',
      '{"type":"user","message":{"content":"cost-state"}}',
      '{"type":"cost-state","totalCostUSD":1.25}',
      '{"type":"cost-state","totalCost',
    ];
    expect(restoredCost(lines.join('\n'))).toBe(1.25);
    expect(restoredCost('{"type":"user"}\n')).toBe(0);
  });
});
