// The model broker is the budget's authority: over real HTTP, a task whose recorded spend reached a
// cap gets 402 BUDGET_REACHED with a readable body, whatever its agent code does; calls the upstream
// does not price are priced by the project's price table.
import { mkdtemp } from 'node:fs/promises';
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

describeEachDatabase('model broker budget', (getDb) => {
  let fake: FakeModelServer;
  let services: Services;
  let server: RunningServer;

  beforeAll(async () => {
    fake = await startFakeModelServer({
      turns: [
        { text: 'one', usage: { inputTokens: 60, outputTokens: 20 } },
        { text: 'two', usage: { inputTokens: 60, outputTokens: 20 } },
        { text: 'never sent', usage: { inputTokens: 1, outputTokens: 1 } },
      ],
      isConversation: () => true,
    });
    const dataDir = await mkdtemp(join(tmpdir(), 'omoi-budget-broker-'));
    services = await createServices(getDb(), { eventPollMs: 500, dataDir });
    const config = loadServerConfig(
      { OPENAI_BASE_URL: `${fake.url}/v1`, OPENAI_API_KEY: 'sk-real-openai-key-0123456789' },
      { dataDir, port: 0, webDir: null },
    );
    server = await startServer(config, { services });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await services?.stop();
    await fake?.close();
  });

  it('refuses a call once the task spent its cap, with 402 and the reason', async () => {
    const project = await services.projects.create({
      name: `budget-broker-${Date.now()}`,
      repo_url: '/nowhere',
      settings: {
        budget: { task_tokens: 100 },
        // USD 1000 per 1M tokens: 80 tokens cost $0.08.
        prices: { 'gpt-fake': { input: 1000, output: 1000 } },
      },
    });
    const { ticket, task } = await services.tickets.create({
      project_id: project.id,
      description: 'Spend',
      workflow_mode: 'quick',
    });
    await getDb().query(`UPDATE tasks SET status = 'running' WHERE id = $1`, [task.id]);
    const token = await services.keys.mintWorkerToken({
      taskId: task.id,
      projectId: project.id,
      ticketId: ticket.id,
      ttlMs: 60_000,
    });
    const env = brokeredModelEnv('openai', server.url, token);
    const client = new OpenAI({ baseURL: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY, maxRetries: 0 });
    const ask = () =>
      client.chat.completions.create({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] });

    expect((await ask()).choices[0]?.message.content).toBe('one'); // 80 of 100
    expect((await ask()).choices[0]?.message.content).toBe('two'); // 160 of 100: recorded, next refused

    // Raw HTTP, as agent code that ignores the runtime's own count would send it.
    const refused = await fetch(`${env.OPENAI_BASE_URL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: 'more' }] }),
    });
    expect(refused.status).toBe(402);
    expect(await refused.json()).toEqual({
      type: 'error',
      error: {
        code: 'BUDGET_REACHED',
        type: 'budget_reached',
        message: 'budget reached: task_tokens (160 tokens of 100 tokens)',
      },
    });
    await expect(ask()).rejects.toMatchObject({ status: 402 });
    expect(fake.modelRequests()).toHaveLength(2);

    const usage = await taskModelUsage(getDb(), task.id);
    expect(usage).toMatchObject({ calls: 2, input_tokens: 120, output_tokens: 40 });
    expect(usage.cost_usd).toBeCloseTo(0.16, 9);
    // Past the default soft threshold (0.8): the event, once.
    const events = await getDb().query<{ data: { key: string } }>(
      `SELECT data FROM events WHERE type = 'budget.threshold' AND project_id = $1`,
      [project.id],
    );
    expect(events.map((e) => e.data.key)).toEqual([`task:${task.id}:tokens`]);
  });
});
