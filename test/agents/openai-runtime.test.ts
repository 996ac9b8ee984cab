import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOpenAiRuntime } from '../../src/agents/openai.js';
import type { AgentSessionOptions } from '../../src/agents/runtime.js';
import {
  conversationTextOf,
  type ScriptTurn,
  startFakeModelServer,
  systemTextOf,
} from '../support/fake-model-server.js';
import {
  collect,
  fakeModelFixture,
  feedbackFor,
  REQUEST_PROMPT,
  resultOf,
  SKILL_MARKER,
  statusLine,
} from './spec-scenario.js';

const fx = fakeModelFixture();

async function session(
  turns: ScriptTurn[],
  options: Partial<AgentSessionOptions> = {},
  knownModels?: string[],
) {
  const server = await fx.serve(turns, knownModels);
  const runtime = createOpenAiRuntime(
    { OPENAI_BASE_URL: `${server.url}/v1`, OPENAI_API_KEY: 'sk-test-secret-key', OMOI_MODEL: 'gpt-fake' },
    { maxRetries: 2 },
  );
  return runtime.start({
    workspace: fx.scenario.workspace,
    systemPrompt: '',
    maxTurns: 10,
    mode: 'exploration',
    ...options,
  });
}

describe('openai runtime, spec-driven session against the fake server', () => {
  it('writes an invalid spec set, gets the validation report as the next turn, and repairs it', async () => {
    const writes = fx.scenario.files.map((file) => ({
      name: 'write_file',
      input: {
        path: file.path,
        content: file.path === fx.scenario.broken.path ? fx.scenario.broken.content : file.content,
      },
    }));
    const good = fx.scenario.files.find((f) => f.path === fx.scenario.broken.path)!;
    const agent = await session(
      [
        { text: 'Planning the rate limit feature.', toolCalls: writes },
        { toolCalls: [{ name: 'finish', input: { summary: 'Wrote the spec set.' } }] },
        {
          toolCalls: [
            {
              name: 'edit_file',
              input: { path: good.path, old_text: 'status: todo', new_text: statusLine(good.content) },
            },
          ],
        },
        { text: 'Fixed the ticket status.' },
      ],
      { systemPrompt: fx.scenario.skill },
    );

    const first = await collect(agent, REQUEST_PROMPT);
    expect(resultOf(first)).toMatchObject({
      ok: true,
      turns: 2,
      usage: { inputTokens: 240, outputTokens: 60 },
    });
    expect(first[0]).toEqual({ type: 'message', text: 'Planning the rate limit feature.' });
    expect(first.filter((e) => e.type === 'tool_use').map((e) => e.type === 'tool_use' && e.name)).toEqual([
      ...writes.map(() => 'write_file'),
      'finish',
    ]);
    expect(first.filter((e) => e.type === 'tool_result').every((e) => e.type === 'tool_result' && e.ok)).toBe(
      true,
    );

    const check = await feedbackFor(fx.scenario.workspace);
    expect(check.passed).toBe(false);
    expect(check.feedback).toContain(fx.scenario.broken.path);

    const second = await collect(agent, check.feedback);
    expect(resultOf(second)).toMatchObject({ ok: true, turns: 2 });
    expect(await readFile(path.join(fx.scenario.workspace, good.path), 'utf8')).toBe(good.content);
    expect((await feedbackFor(fx.scenario.workspace)).passed).toBe(true);

    const requests = fx.server!.modelRequests();
    expect(requests).toHaveLength(4);
    // The skill is in the system prompt of every call; the feedback is the user turn after the finish.
    for (const request of requests) expect(systemTextOf(request)).toContain(SKILL_MARKER);
    expect(conversationTextOf(requests[0]!)).toContain('Limit failed logins to five per minute');
    expect(conversationTextOf(requests[1]!)).toMatch(/Wrote \.omoi_os\/tickets\//);
    expect(conversationTextOf(requests[1]!)).not.toContain('Spec validation FAILED');
    expect(conversationTextOf(requests[2]!)).toContain(check.feedback.trim());
    expect(conversationTextOf(requests[3]!)).toMatch(/Edited .*\(1 replacement\)/);
    const body = requests[0]!.body as {
      model: string;
      stream: boolean;
      tools: { function: { name: string } }[];
    };
    expect(body).toMatchObject({ model: 'gpt-fake', stream: true });
    expect(body.tools.map((t) => t.function.name)).toContain('run_command');
    // The key went out as a header and was not recorded.
    expect(JSON.stringify(fx.server!.requests)).not.toContain('sk-test-secret-key');
  });

  it('sends no skill text in a quick (non-spec) session', async () => {
    const agent = await session([{ text: 'Nothing to do.' }], { systemPrompt: '', mode: 'implementation' });
    expect(resultOf(await collect(agent, 'Implement the task.'))).toMatchObject({ ok: true });
    const system = systemTextOf(fx.server!.modelRequests()[0]!);
    expect(system).toContain('implementation work');
    expect(system).not.toContain(SKILL_MARKER);
  });
});

describe('openai runtime faults', () => {
  it('retries a 429 and a 500 with backoff, then succeeds', async () => {
    const agent = await session([{ fault: 'rate_limit' }, { fault: 'server_error' }, { text: 'Recovered.' }]);
    const events = await collect(agent, 'hi');
    expect(resultOf(events)).toMatchObject({ ok: true, turns: 1 });
    expect(events[0]).toEqual({ type: 'message', text: 'Recovered.' });
    expect(fx.server!.modelRequests()).toHaveLength(3);
  });

  it('gives up on a 5xx that does not go away, saying so', async () => {
    const agent = await session([
      { fault: 'server_error' },
      { fault: 'server_error' },
      { fault: 'server_error' },
    ]);
    const result = resultOf(await collect(agent, 'hi'));
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/failed \(HTTP 500: Internal server error \(scripted\)\)/);
  });

  it('fails clearly when the endpoint is down', async () => {
    const dead = await startFakeModelServer({ turns: [] });
    await dead.close();
    const runtime = createOpenAiRuntime(
      { OPENAI_BASE_URL: `${dead.url}/v1`, OMOI_MODEL: 'm' },
      { maxRetries: 1 },
    );
    const agent = runtime.start({
      workspace: fx.scenario.workspace,
      systemPrompt: '',
      maxTurns: 3,
      mode: 'exploration',
    });
    const result = resultOf(await collect(agent, 'hi'));
    expect(result).toMatchObject({ ok: false, turns: 1 });
    expect(result.error).toMatch(
      /Cannot reach the model endpoint http:\/\/127\.0\.0\.1:\d+\/v1 \(ECONNREFUSED\)/,
    );
  });

  it('fails clearly, without retrying, when the model name is unknown', async () => {
    const agent = await session([{ text: 'unused' }], { model: 'no-such-model' }, ['gpt-fake']);
    const result = resultOf(await collect(agent, 'hi'));
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/The model "no-such-model" was not found at .* set OMOI_MODEL/);
    expect(fx.server!.requests.filter((r) => r.api === 'openai')).toHaveLength(1);
  });

  it('survives a stream that breaks off by asking again without streaming', async () => {
    const agent = await session([{ fault: 'malformed_stream' }, { text: 'Second try.' }]);
    const events = await collect(agent, 'hi');
    expect(resultOf(events)).toMatchObject({ ok: true });
    expect(events[0]).toEqual({ type: 'message', text: 'Second try.' });
    const [broken, retry] = fx.server!.modelRequests();
    expect((broken!.body as { stream: boolean }).stream).toBe(true);
    expect((retry!.body as { stream: boolean }).stream).toBe(false);
  });

  it('answers a tool call with bad arguments with the error, and the model corrects itself', async () => {
    const agent = await session([
      { toolCalls: [{ name: 'write_file', rawArguments: '{"path": "notes/bad.md", "content": ' }] },
      { toolCalls: [{ name: 'write_file', input: { path: 'notes/bad.md' } }] },
      { toolCalls: [{ name: 'write_file', input: { path: 'notes/bad.md', content: 'fixed' } }] },
      { text: 'Done.' },
    ]);
    const events = await collect(agent, 'write a note');
    expect(resultOf(events)).toMatchObject({ ok: true, turns: 4 });
    const results = events.filter((e) => e.type === 'tool_result');
    expect(results.map((e) => e.type === 'tool_result' && e.ok)).toEqual([false, false, true]);
    expect(events.find((e) => e.type === 'tool_use')).toEqual({
      type: 'tool_use',
      name: 'write_file',
      input: { raw: '{"path": "notes/bad.md", "content": ' },
    });
    const requests = fx.server!.modelRequests();
    expect(conversationTextOf(requests[1]!)).toMatch(/not valid JSON/);
    expect(conversationTextOf(requests[2]!)).toMatch(/Invalid arguments for write_file: content:/);
    expect(await readFile(path.join(fx.scenario.workspace, 'notes/bad.md'), 'utf8')).toBe('fixed');
  });

  it('stops at the turn limit with max_turns', async () => {
    const loop = { toolCalls: [{ name: 'list_files', input: {} }] };
    const agent = await session([loop, loop, loop, loop], { maxTurns: 2 });
    const result = resultOf(await collect(agent, 'loop'));
    expect(result).toMatchObject({ ok: false, error: 'max_turns', turns: 2 });
    expect(fx.server!.modelRequests()).toHaveLength(2);
  });

  it('cancels a running command, ends with cancelled, and the conversation can go on', async () => {
    const agent = await session([
      {
        toolCalls: [
          { name: 'run_command', input: { command: 'sleep 30' } },
          { name: 'list_files', input: {} },
        ],
      },
      { text: 'Continuing after the cancel.' },
    ]);
    const controller = new AbortController();
    const events = [];
    for await (const event of agent.send('run it', controller.signal)) {
      events.push(event);
      if (event.type === 'tool_use') controller.abort();
    }
    expect(resultOf(events)).toMatchObject({ ok: false, error: 'cancelled' });
    expect(events.filter((e) => e.type === 'tool_use')).toHaveLength(1);

    const next = await collect(agent, 'go on');
    expect(resultOf(next)).toMatchObject({ ok: true });
    // Both tool calls of the cancelled turn were answered, so the endpoint accepted the history.
    const messages = (
      fx.server!.modelRequests()[1]!.body as { messages: { role: string; content: string }[] }
    ).messages;
    expect(messages.filter((m) => m.role === 'tool').map((m) => m.content)).toEqual([
      expect.stringContaining('[cancelled]'),
      'Not run: the turn ended.',
    ]);
  });

  it('redacts its key and trims long inputs in events, while the model gets everything', async () => {
    const long = 'x'.repeat(5_000);
    const agent = await session([
      {
        text: 'I found the key sk-test-secret-key in the environment.',
        toolCalls: [{ name: 'write_file', input: { path: 'notes/long.md', content: long } }],
      },
      { text: 'Done.' },
    ]);
    const events = await collect(agent, 'go');
    expect(events[0]).toEqual({ type: 'message', text: 'I found the key [redacted] in the environment.' });
    const use = events.find((e) => e.type === 'tool_use');
    const content = (use as { input: { content: string } }).input.content;
    expect(content).toMatch(/^x{2000}… \[5000 characters\]$/);
    expect(await readFile(path.join(fx.scenario.workspace, 'notes/long.md'), 'utf8')).toBe(long);
  });

  it('reads tool calls streamed whole and without an index (older Ollama)', async () => {
    const server = await startFakeModelServer({
      wholeToolCalls: true,
      turns: [
        {
          toolCalls: [
            { name: 'write_file', input: { path: 'notes/one.md', content: '1' } },
            { name: 'write_file', input: { path: 'notes/two.md', content: '2' } },
          ],
        },
        { text: 'Both written.' },
      ],
    });
    fx.server = server;
    const agent = createOpenAiRuntime({ OPENAI_BASE_URL: `${server.url}/v1`, OMOI_MODEL: 'm' }).start({
      workspace: fx.scenario.workspace,
      systemPrompt: '',
      maxTurns: 4,
      mode: 'implementation',
    });
    expect(resultOf(await collect(agent, 'write two notes'))).toMatchObject({ ok: true, turns: 2 });
    expect(await readFile(path.join(fx.scenario.workspace, 'notes/one.md'), 'utf8')).toBe('1');
    expect(await readFile(path.join(fx.scenario.workspace, 'notes/two.md'), 'utf8')).toBe('2');
  });

  it('labels itself with the model', () => {
    expect(createOpenAiRuntime({ OMOI_MODEL: 'qwen2.5-coder' }).label).toBe('openai (qwen2.5-coder)');
  });
});
