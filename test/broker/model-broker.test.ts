// The model broker over real HTTP: the OpenAI client and plain Anthropic requests reach the
// scripted fake model server through the broker with a task token, the upstream sees only the
// server's real key, streams pass through unbuffered, usage is recorded per task, and a finished
// or unknown token is refused.

import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/api/main.js';
import { taskModelUsage } from '../../src/broker/model.js';
import { brokeredModelEnv } from '../../src/contracts/broker-urls.js';
import { loadServerConfig } from '../../src/core/config.js';
import { createServices, type Services } from '../../src/core/services.js';
import { describeEachDatabase } from '../support/db.js';
import { type FakeModelServer, startFakeModelServer } from '../support/fake-model-server.js';

const REAL_OPENAI = 'sk-real-openai-key-0123456789abcdef';
const REAL_ANTHROPIC = 'sk-ant-real-anthropic-key-0123456789';

describeEachDatabase('model broker', (getDb) => {
  let fake: FakeModelServer;
  let services: Services;
  let server: RunningServer;
  let projectId: string;
  const bodies: string[] = [];

  async function runningTask() {
    const { ticket, task } = await services.tickets.create({
      project_id: projectId,
      description: 'Add a CSV export',
      workflow_mode: 'quick',
    });
    await getDb().query(`UPDATE tasks SET status = 'running' WHERE id = $1`, [task.id]);
    const token = await services.keys.mintWorkerToken({
      taskId: task.id,
      projectId,
      ticketId: ticket.id,
      ttlMs: 60_000,
    });
    return { task, token };
  }

  beforeAll(async () => {
    fake = await startFakeModelServer({
      turns: [
        { text: 'plain openai', usage: { inputTokens: 11, outputTokens: 7 } },
        { text: 'streamed openai', usage: { inputTokens: 13, outputTokens: 5 } },
        { text: 'plain anthropic', usage: { inputTokens: 17, outputTokens: 3 } },
        { text: 'streamed anthropic', usage: { inputTokens: 19, outputTokens: 9 } },
      ],
      // Every request here is part of the conversation (the default wants tools).
      isConversation: () => true,
    });
    const dataDir = await mkdtemp(join(tmpdir(), 'omoi-model-broker-'));
    services = await createServices(getDb(), { eventPollMs: 500, dataDir });
    const config = loadServerConfig(
      {
        OPENAI_BASE_URL: `${fake.url}/v1`,
        OPENAI_API_KEY: REAL_OPENAI,
        ANTHROPIC_BASE_URL: fake.url,
        ANTHROPIC_API_KEY: REAL_ANTHROPIC,
      },
      { dataDir, port: 0, webDir: null },
    );
    server = await startServer(config, { services });
    projectId = (await services.projects.create({ name: `models-${Date.now()}`, repo_url: '/nowhere' })).id;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await services?.stop();
    await fake?.close();
  });

  it('OpenAI: the client talks to the broker with the task token; the upstream sees the real key; usage is recorded', async () => {
    const { task, token } = await runningTask();
    const env = brokeredModelEnv('openai', server.url, token);
    expect(env.OPENAI_API_KEY).toBe(token);
    const client = new OpenAI({ baseURL: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY, maxRetries: 0 });
    const plain = await client.chat.completions.create({
      model: 'gpt-fake',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(plain.choices[0]?.message.content).toBe('plain openai');
    bodies.push(JSON.stringify(plain));

    const stream = await client.chat.completions.create({
      model: 'gpt-fake',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      bodies.push(JSON.stringify(chunk));
    }
    expect(text).toBe('streamed openai');

    const upstream = fake.requests.filter((r) => r.path === '/v1/chat/completions');
    expect(upstream.map((r) => r.credential)).toEqual([`Bearer ${REAL_OPENAI}`, `Bearer ${REAL_OPENAI}`]);
    expect(await taskModelUsage(getDb(), task.id)).toEqual({
      calls: 2,
      input_tokens: 24,
      output_tokens: 12,
      cost_usd: null,
    });
    const viaApi = await fetch(`${server.url}/api/v1/tasks/${task.id}/usage`);
    expect(await viaApi.json()).toEqual({ calls: 2, input_tokens: 24, output_tokens: 12, cost_usd: null });
    const rows = await getDb().query<{ api: string; model: string; status: number }>(
      'SELECT api, model, status FROM model_usage WHERE task_id = $1 ORDER BY id',
      [task.id],
    );
    expect(rows.map((r) => [r.api, r.model, Number(r.status)])).toEqual([
      ['openai', 'gpt-fake', 200],
      ['openai', 'gpt-fake', 200],
    ]);
  });

  it('Anthropic: x-api-key carries the task token (as the Claude CLI sends it), JSON and SSE, usage recorded', async () => {
    const { task, token } = await runningTask();
    const env = brokeredModelEnv('claude', server.url, token);
    const call = (stream: boolean) =>
      fetch(`${env.ANTHROPIC_BASE_URL}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': env.ANTHROPIC_API_KEY!,
          'anthropic-version': '2023-06-01',
        },
        body: JSON.stringify({
          model: 'claude-fake',
          max_tokens: 100,
          stream,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
    const plain = await call(false);
    expect(plain.status).toBe(200);
    const message = (await plain.json()) as { content: { text?: string }[] };
    expect(message.content[0]?.text).toBe('plain anthropic');
    const streamed = await call(true);
    expect(streamed.headers.get('content-type')).toContain('text/event-stream');
    const sse = await streamed.text();
    bodies.push(sse);
    expect(sse).toContain('message_stop');
    expect(sse).toContain('streamed anthropic'.slice(0, 5));
    const upstream = fake.requests.filter((r) => r.path === '/v1/messages');
    expect(upstream.map((r) => r.credential)).toEqual([REAL_ANTHROPIC, REAL_ANTHROPIC]);
    expect(await taskModelUsage(getDb(), task.id)).toMatchObject({
      calls: 2,
      input_tokens: 36,
      output_tokens: 12,
    });
  });

  it('a stream is passed through as it comes (the first frame arrives before the upstream finishes)', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    const slow: Server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `data: ${JSON.stringify({ id: 'x', model: 'slow', choices: [{ index: 0, delta: { content: 'first' } }] })}\n\n`,
      );
      // The rest only after the client has seen the first frame: a buffering broker never delivers it.
      void released.then(() => {
        res.write(
          `data: ${JSON.stringify({ id: 'x', model: 'slow', choices: [], usage: { prompt_tokens: 4, completion_tokens: 2, cost: 0.0001 } })}\n\n`,
        );
        res.end('data: [DONE]\n\n');
      });
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const dataDir = await mkdtemp(join(tmpdir(), 'omoi-model-broker-slow-'));
    const config = loadServerConfig(
      { OPENAI_BASE_URL: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/v1` },
      { dataDir, port: 0, webDir: null },
    );
    const second = await startServer(config, { services });
    try {
      const { task, token } = await runningTask();
      const res = await fetch(`${second.url}/api/v1/model/openai/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ model: 'slow', stream: true, messages: [] }),
      });
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let seen = '';
      while (!seen.includes('first')) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += value;
      }
      expect(seen).toContain('first');
      release();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += value;
      }
      expect(seen).toContain('[DONE]');
      await expect
        .poll(() => taskModelUsage(getDb(), task.id))
        .toEqual({ calls: 1, input_tokens: 4, output_tokens: 2, cost_usd: 0.0001 });
    } finally {
      release();
      await second.close();
      await new Promise<void>((r) => slow.close(() => r()));
    }
  });

  it("refuses a finished task's token, an unknown token, an API key and no token", async () => {
    const { task, token } = await runningTask();
    const post = (path: string, headers: Record<string, string>) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'gpt-fake', messages: [] }),
      });
    const before = fake.requests.length;
    await getDb().query(`UPDATE tasks SET status = 'completed' WHERE id = $1`, [task.id]);
    for (const path of ['/api/v1/model/openai/chat/completions', '/api/v1/model/anthropic/v1/messages']) {
      // The task's end revoked its token (issue 12): refused as revoked.
      const finished = await post(path, { authorization: `Bearer ${token}` });
      expect(finished.status).toBe(401);
      expect((await post(path, { 'x-api-key': token })).status).toBe(401);
      expect((await post(path, { authorization: 'Bearer omoi_wt_unknown' })).status).toBe(401);
      expect((await post(path, {})).status).toBe(401);
    }
    const key = await services.keys.create('person');
    expect(
      (await post('/api/v1/model/openai/chat/completions', { authorization: `Bearer ${key.key}` })).status,
    ).toBe(403);
    expect(fake.requests.length).toBe(before);
  });

  it('the real keys appear in no answer and no row', async () => {
    for (const text of bodies) {
      expect(text).not.toContain(REAL_OPENAI);
      expect(text).not.toContain(REAL_ANTHROPIC);
    }
    const rows = JSON.stringify([
      ...(await getDb().query('SELECT * FROM model_usage')),
      ...(await getDb().query('SELECT * FROM events')),
      ...(await getDb().query('SELECT * FROM tasks')),
    ]);
    expect(rows).not.toContain(REAL_OPENAI);
    expect(rows).not.toContain(REAL_ANTHROPIC);
  });
});
