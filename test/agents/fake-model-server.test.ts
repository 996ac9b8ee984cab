// The fake model server's own contract: the wire formats the real clients rely on.
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeModelServer, startFakeModelServer } from '../support/fake-model-server.js';

let server: FakeModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

function sseEvents(text: string): { event: string; data: Record<string, unknown> }[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? '';
      return { event, data: JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? '{}') };
    });
}

const TOOLS = [{ name: 'Write', input_schema: { type: 'object' } }];

describe('fake model server', () => {
  it('streams Anthropic messages in the real event order, tool input as JSON deltas', async () => {
    server = await startFakeModelServer({
      turns: [
        {
          text: 'Writing the file now.',
          toolCalls: [{ name: 'Write', input: { file_path: 'a.md', content: 'A' } }],
        },
      ],
    });
    const response = await post('/v1/messages', { model: 'm', stream: true, tools: TOOLS, messages: [] });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const events = sseEvents(await response.text());
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('message_start');
    expect(names.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(names.filter((n) => n === 'content_block_start')).toHaveLength(2);
    const text = events
      .filter((e) => (e.data.delta as { type?: string } | undefined)?.type === 'text_delta')
      .map((e) => (e.data.delta as { text: string }).text)
      .join('');
    expect(text).toBe('Writing the file now.');
    const json = events
      .filter((e) => (e.data.delta as { type?: string } | undefined)?.type === 'input_json_delta')
      .map((e) => (e.data.delta as { partial_json: string }).partial_json);
    expect(json.length).toBeGreaterThan(1);
    expect(JSON.parse(json.join(''))).toEqual({ file_path: 'a.md', content: 'A' });
    expect(events.find((e) => e.event === 'message_delta')?.data).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { output_tokens: 30 },
    });
  });

  it('answers non-streamed requests of both APIs, and side calls without consuming a turn', async () => {
    server = await startFakeModelServer({
      turns: [{ text: 'one' }, { toolCalls: [{ name: 'read_file', input: { path: 'x' }, id: 'call_1' }] }],
    });
    const side = await (await post('/v1/messages', { model: 'm', messages: [] })).json();
    expect(side).toMatchObject({ type: 'message', content: [{ type: 'text', text: 'OK' }] });
    const first = await (await post('/v1/messages', { model: 'm', tools: TOOLS, messages: [] })).json();
    expect(first).toMatchObject({
      role: 'assistant',
      content: [{ type: 'text', text: 'one' }],
      stop_reason: 'end_turn',
    });
    const second = (await (await post('/v1/chat/completions', { model: 'gpt', messages: [] })).json()) as {
      choices: unknown[];
    };
    expect(second.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'read_file', arguments: '{"path":"x"}' } },
        ],
      },
    });
    expect(server.modelRequests().map((r) => r.turn)).toEqual([0, 1]);
    expect(server.turnsPlayed()).toBe(2);
  });

  it('plays faults with the status codes the real APIs use', async () => {
    server = await startFakeModelServer({
      turns: [{ fault: 'rate_limit' }, { fault: 'server_error' }, { fault: 'unknown_model' }],
    });
    const limited = await post('/v1/chat/completions', { model: 'gpt', messages: [] });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after-ms')).toBe('20');
    expect((await post('/v1/chat/completions', { model: 'gpt', messages: [] })).status).toBe(500);
    const missing = await post('/v1/messages', { model: 'claude-x', tools: TOOLS, messages: [] });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      type: 'error',
      error: { type: 'not_found_error', message: 'model: claude-x' },
    });
  });

  it('records bodies and headers, never credentials', async () => {
    server = await startFakeModelServer({ turns: [{ text: 'hi' }] });
    await post(
      '/v1/chat/completions',
      { model: 'gpt', messages: [{ role: 'user', content: 'hello' }] },
      { authorization: 'Bearer sk-secret', 'x-api-key': 'sk-secret', 'x-trace': 't1' },
    );
    const [request] = server.requests;
    expect(request).toMatchObject({ api: 'openai', method: 'POST', path: '/v1/chat/completions' });
    expect(request!.headers['x-trace']).toBe('t1');
    expect(request!.body).toEqual({ model: 'gpt', messages: [{ role: 'user', content: 'hello' }] });
    expect(JSON.stringify(server.requests)).not.toContain('sk-secret');
  });
});

describe('fake model server, turns per task', () => {
  it('gives a conversation the turns that match it and fills in its spec task id', async () => {
    const server = await startFakeModelServer({
      turns: [
        { match: 'Spec task: TSK-B', text: 'for B' },
        { toolCalls: [{ name: 'write_file', input: { path: 'step-{{spec_task_id}}.txt', content: 'x' } }] },
      ],
    });
    try {
      const ask = async (prompt: string) => {
        const response = await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: prompt }] }),
        });
        return (await response.json()) as {
          choices: {
            message: { content: string | null; tool_calls?: { function: { arguments: string } }[] };
          }[];
        };
      };
      // A's conversation skips B's turn and takes the next one, with its own id filled in.
      const a = await ask('Task: 1\nSpec task: TSK-A\n\nDo A.');
      expect(JSON.parse(a.choices[0]!.message.tool_calls![0]!.function.arguments)).toEqual({
        path: 'step-TSK-A.txt',
        content: 'x',
      });
      const b = await ask('Task: 2\nSpec task: TSK-B\n\nDo B.');
      expect(b.choices[0]!.message.content).toBe('for B');
      expect(server.turnsPlayed()).toBe(2);
      expect(server.modelRequests().map((r) => r.turn)).toEqual([1, 0]);
    } finally {
      await server.close();
    }
  });
});
