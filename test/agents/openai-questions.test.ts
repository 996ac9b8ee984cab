// The question tool of the openai runtime against the scripted fake server: the model calls
// ask_user, the session parks without another model call, and a new runtime resumes the stored
// transcript by answering that very call.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAiRuntime } from '../../src/agents/openai.js';
import type {
  AgentEvent,
  AgentSession,
  AgentSessionOptions,
  TurnFeedback,
} from '../../src/agents/runtime.js';
import { AWAITING_INPUT, type SessionCheckpoint } from '../../src/contracts/questions.js';
import type { RecordedRequest, ScriptTurn } from '../support/fake-model-server.js';
import { fakeModelFixture, resultOf } from './spec-scenario.js';

const KEY = 'sk-test-secret-key';
const fx = fakeModelFixture();
let workspaceB: string;
beforeAll(async () => {
  workspaceB = await mkdtemp(path.join(tmpdir(), 'omoi-openai-ws-b-'));
});
afterAll(async () => {
  await rm(workspaceB, { recursive: true, force: true });
});

function start(options: Partial<AgentSessionOptions> = {}): AgentSession {
  return createOpenAiRuntime(
    { OPENAI_BASE_URL: `${fx.server!.url}/v1`, OPENAI_API_KEY: KEY, OMOI_MODEL: 'gpt-fake' },
    { maxRetries: 1 },
  ).start({
    workspace: fx.scenario.workspace,
    systemPrompt: '',
    maxTurns: 10,
    mode: 'implementation',
    ...options,
  });
}

async function send(session: AgentSession, prompt: string, feedback?: TurnFeedback): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  for await (const event of session.send(prompt, undefined, feedback)) events.push(event);
  return events;
}

type Message = {
  role: string;
  content?: string | null;
  tool_call_id?: string;
  tool_calls?: { id: string }[];
};
const messagesOf = (request: RecordedRequest) => (request.body as { messages: Message[] }).messages;
const toolNames = (request: RecordedRequest) =>
  (request.body as { tools: { function: { name: string } }[] }).tools.map((tool) => tool.function.name);

const ASK = {
  name: 'ask_user',
  id: 'call_ask_1',
  input: {
    question: 'Which database should the audit log use?',
    options: ['Postgres', 'SQLite'],
    why: 'The service has both; the log format depends on it.',
  },
};

describe('openai runtime questions', () => {
  it('parks on ask_user after answering the other calls, and a new session resumes with the answer as its result', async () => {
    await fx.serve([
      {
        text: `Found ${KEY} in the environment; one thing is not mine to decide.`,
        toolCalls: [
          { name: 'write_file', id: 'call_write_1', input: { path: 'notes/audit.md', content: 'draft' } },
          ASK,
          { name: 'list_files', id: 'call_list_1', input: {} },
        ],
      },
      { toolCalls: [{ name: 'finish', input: { summary: 'Audit log on Postgres.' } }] },
    ] satisfies ScriptTurn[]);
    const first = start({ canAsk: true });
    const events = await send(first, 'Add an audit log to the service.');

    expect(events.filter((e) => e.type === 'question')).toEqual([
      {
        type: 'question',
        question: {
          question: 'Which database should the audit log use?',
          options: ['Postgres', 'SQLite'],
          why: 'The service has both; the log format depends on it.',
        },
      },
    ]);
    expect(resultOf(events)).toMatchObject({
      ok: false,
      error: AWAITING_INPUT,
      turns: 1,
      usage: { inputTokens: 120, outputTokens: 30 },
    });
    // The other calls of that reply ran and were answered; the question is not a tool call event.
    expect(events.flatMap((e) => (e.type === 'tool_use' ? [e.name] : []))).toEqual([
      'write_file',
      'list_files',
    ]);
    expect(await readFile(path.join(fx.scenario.workspace, 'notes/audit.md'), 'utf8')).toBe('draft');
    // No model call after the question.
    expect(fx.server!.modelRequests()).toHaveLength(1);
    expect(toolNames(fx.server!.modelRequests()[0]!)).toContain('ask_user');

    const checkpoint = await first.checkpoint!();
    await first.close();
    expect(checkpoint).toMatchObject({
      runtime: 'openai',
      data: { version: 1, pending_call_id: 'call_ask_1' },
    });
    const data = checkpoint!.data as { messages: Message[] };
    expect(data.messages[0]!.role).toBe('system');
    expect(data.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool']);
    expect(data.messages[2]!.tool_calls!.map((call) => call.id)).toEqual([
      'call_write_1',
      'call_ask_1',
      'call_list_1',
    ]);
    // The model echoed the key; the checkpoint does not carry it.
    expect(JSON.stringify(checkpoint)).not.toContain(KEY);
    expect(JSON.stringify(checkpoint)).toContain('Found [redacted] in the environment');

    // A new process (the checkpoint went through the server as JSON) in another workspace.
    const stored = JSON.parse(JSON.stringify(checkpoint)) as SessionCheckpoint;
    const second = start({ canAsk: true, resume: stored, workspace: workspaceB });
    expect(second.resumed).toBe(true);
    const resumed = await send(second, 'The person answered your question: Postgres. Go on.', {
      kind: 'answer',
      question: ASK.input.question,
      answer: 'Postgres',
    });
    await second.close();
    expect(resultOf(resumed)).toMatchObject({ ok: true, turns: 1 });
    expect(resumed).toContainEqual({ type: 'message', text: 'Audit log on Postgres.' });

    const requests = fx.server!.modelRequests();
    expect(requests).toHaveLength(2);
    const messages = messagesOf(requests[1]!);
    // The whole earlier conversation, then the answer as the result of the pending call, and no new user turn.
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool', 'tool']);
    expect(messages[1]!.content).toBe('Add an audit log to the service.');
    expect(messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 'call_ask_1', content: 'Postgres' });
    expect(messages.filter((m) => m.role === 'tool').map((m) => m.tool_call_id)).toEqual([
      'call_write_1',
      'call_list_1',
      'call_ask_1',
    ]);
  });

  it('answers the pending call with the prompt when no answer feedback comes, in the same session', async () => {
    await fx.serve([{ toolCalls: [ASK] }, { text: 'Using SQLite.' }]);
    const agent = start({ canAsk: true });
    expect(resultOf(await send(agent, 'Add an audit log.'))).toMatchObject({ error: AWAITING_INPUT });
    expect(resultOf(await send(agent, 'SQLite, please.'))).toMatchObject({ ok: true });
    const messages = messagesOf(fx.server!.modelRequests()[1]!);
    expect(messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 'call_ask_1', content: 'SQLite, please.' });
    // Nothing pending any more: the next send is an ordinary user turn.
    expect((await agent.checkpoint!())?.data).toMatchObject({ pending_call_id: null });
  });

  it('answers a malformed question with the error, and parks only on a valid one', async () => {
    await fx.serve([
      {
        toolCalls: [
          { name: 'ask_user', id: 'call_bad_1', input: { question: '   ', why: 'x' } },
          {
            name: 'ask_user',
            id: 'call_bad_2',
            input: { question: 'Which?', why: 'x', options: Array.from({ length: 11 }, (_, i) => `o${i}`) },
          },
          { name: 'ask_user', id: 'call_bad_3', input: { question: 'Which?' } },
        ],
      },
      { toolCalls: [ASK, { ...ASK, id: 'call_ask_2' }] },
      { text: 'unused' },
    ]);
    const agent = start({ canAsk: true });
    const events = await send(agent, 'Add an audit log.');
    const failures = events.flatMap((e) => (e.type === 'tool_result' ? [e] : []));
    expect(failures.map((e) => e.ok)).toEqual([false, false, false, false]);
    expect(failures[0]!.output).toMatch(/Invalid arguments for ask_user: question:/);
    expect(failures[1]!.output).toMatch(/options:/);
    expect(failures[2]!.output).toMatch(/why:/);
    // Two questions in one reply: the first parks, the second is answered "one at a time".
    expect(failures[3]!.output).toMatch(/one question at a time/);
    expect(resultOf(events)).toMatchObject({ ok: false, error: AWAITING_INPUT, turns: 2 });
    expect(events.filter((e) => e.type === 'question')).toHaveLength(1);
    expect(fx.server!.modelRequests()).toHaveLength(2);
    expect((await agent.checkpoint!())?.data).toMatchObject({ pending_call_id: 'call_ask_1' });
  });

  it('offers no ask_user without canAsk, and a call to it is an unknown tool', async () => {
    await fx.serve([{ toolCalls: [ASK] }, { text: 'Went with Postgres.' }]);
    const agent = start();
    const events = await send(agent, 'Add an audit log.');
    expect(resultOf(events)).toMatchObject({ ok: true, turns: 2 });
    expect(events.some((e) => e.type === 'question')).toBe(false);
    expect(events.find((e) => e.type === 'tool_result')).toMatchObject({
      ok: false,
      output: expect.stringMatching(/^Unknown tool "ask_user"/),
    });
    expect(toolNames(fx.server!.modelRequests()[0]!)).not.toContain('ask_user');
  });

  it('starts a new conversation from a checkpoint it cannot use', async () => {
    const earlier: Message[] = [
      { role: 'system', content: 'old' },
      { role: 'user', content: 'Earlier request.' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_other' }] },
    ];
    const unusable: SessionCheckpoint[] = [
      { runtime: 'claude', data: { version: 1, session_id: 'abc', transcript: '{}' } },
      { runtime: 'openai', data: { version: 2, messages: earlier, pending_call_id: null } },
      { runtime: 'openai', data: 'not an object' },
      // The pending call is not one the conversation made: the endpoint would refuse the history.
      { runtime: 'openai', data: { version: 1, messages: earlier, pending_call_id: 'call_ask_1' } },
    ];
    await fx.serve(unusable.map(() => ({ text: 'Fresh start.' })));
    for (const resume of unusable) {
      const agent = start({ canAsk: true, resume });
      expect(agent.resumed).toBe(false);
      expect(resultOf(await send(agent, 'The person answered: SQLite.'))).toMatchObject({ ok: true });
      const messages = messagesOf(fx.server!.modelRequests().at(-1)!);
      expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
      expect(messages[1]!.content).toBe('The person answered: SQLite.');
    }
  });
});
