import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWAITING_INPUT } from '../contracts/questions.js';
import type { AgentEvent, AgentRuntime, AgentSession, TurnFeedback } from './runtime.js';
import { createScriptedRuntime } from './scripted.js';

let dir: string;
let runtime: AgentRuntime;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omoi-scripted-'));
  const script = join(dir, 'script.json');
  await writeFile(
    script,
    JSON.stringify({
      turns: [
        {
          write: { 'notes/draft.md': 'draft' },
          ask: { question: 'Which database?', options: ['Postgres', 'SQLite'], why: 'Both exist.' },
        },
        { expectAnswer: 'Postgres', write: { 'notes/db.md': 'Postgres' } },
      ],
    }),
  );
  runtime = createScriptedRuntime({ OMOI_TEST_RUNTIME_SCRIPT: script });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function send(session: AgentSession, prompt: string, feedback?: TurnFeedback): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  for await (const event of session.send(prompt, undefined, feedback)) events.push(event);
  return events;
}

const base = () => ({ workspace: dir, systemPrompt: '', maxTurns: 5, mode: 'implementation' as const });
const answer: TurnFeedback = { kind: 'answer', question: 'Which database?', answer: 'Postgres' };

describe('scripted runtime questions', () => {
  it('asks, and a session resumed from its checkpoint plays the next turn with the answer', async () => {
    const first = runtime.start({ ...base(), canAsk: true });
    const asked = await send(first, 'Add the audit log.');
    expect(asked.slice(-2)).toEqual([
      {
        type: 'question',
        question: { question: 'Which database?', options: ['Postgres', 'SQLite'], why: 'Both exist.' },
      },
      { type: 'result', ok: false, error: AWAITING_INPUT, turns: 1 },
    ]);
    expect(await readFile(join(dir, 'notes/draft.md'), 'utf8')).toBe('draft');
    const checkpoint = await first.checkpoint!();

    const resumed = runtime.start({ ...base(), canAsk: true, resume: checkpoint! });
    expect(resumed.resumed).toBe(true);
    expect((await send(resumed, 'Answered: Postgres.', answer)).at(-1)).toMatchObject({ ok: true });
    expect(await readFile(join(dir, 'notes/db.md'), 'utf8')).toBe('Postgres');

    // Without the answer as feedback the turn fails: tests see whether the worker passed it.
    const bare = runtime.start({ ...base(), canAsk: true, resume: checkpoint! });
    expect((await send(bare, 'Answered: Postgres.')).at(-1)).toMatchObject({
      ok: false,
      error: 'the turn lacks the answer "Postgres"',
    });
  });

  it('starts at the first turn from a checkpoint of another runtime, and fails a question it may not ask', async () => {
    const foreign = runtime.start({ ...base(), canAsk: true, resume: { runtime: 'openai', data: {} } });
    expect(foreign.resumed).toBe(false);
    expect((await send(foreign, 'Add the audit log.')).some((e) => e.type === 'question')).toBe(true);
    const mute = runtime.start(base());
    expect((await send(mute, 'Add the audit log.')).at(-1)).toMatchObject({
      ok: false,
      error: 'the turn asks, but the session may not',
    });
  });
});
