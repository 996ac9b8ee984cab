// Budgets in a whole run: `omoi start` (local sandbox, the openai runtime against the scripted fake
// model server, calls through the model broker). A task with a token cap stops before the call that
// would pass it, one with a USD cap (priced by the project's price table) likewise, and a task of a
// project whose cap is used up fails before any sandbox starts. The spend endpoint's numbers are
// worked by hand: every scripted call reports 400 input and 100 output tokens.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRemote,
  ensureBuilt,
  type OmoiServer,
  startOmoi,
  ticketEvents,
} from '../e2e-run/support/harness.js';
import { type FakeModelServer, startFakeModelServer } from '../support/fake-model-server.js';

const usage = { inputTokens: 400, outputTokens: 100 };
const step = { toolCalls: [{ name: 'run_command', input: { command: 'true' } }], usage };

describe('budget caps stop a run', () => {
  let tmp: string;
  let remote: string;
  let model: FakeModelServer;
  let server: OmoiServer;

  beforeAll(async () => {
    ensureBuilt();
    tmp = await mkdtemp(join(tmpdir(), 'omoi-budget-run-'));
    remote = await createRemote(tmp);
    // 3 calls for the token-capped task, 2 for the USD-capped one; the last turn must stay unplayed.
    model = await startFakeModelServer({
      turns: [step, step, step, step, step, { toolCalls: [{ name: 'finish', input: { summary: 'x' } }] }],
    });
    server = await startOmoi({
      dataDir: join(tmp, 'data'),
      env: {
        AGENT_RUNTIME: 'openai',
        OPENAI_BASE_URL: `${model.url}/v1`,
        OPENAI_API_KEY: 'sk-real-model-key-0123456789',
        OMOI_MODEL: 'gpt-fake',
        OMOI_LEASE_MS: '5000',
      },
    });
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
    await model?.close();
  });

  async function project(name: string, settings: unknown) {
    return server.api<{ id: string }>('POST', '/projects', { name, repo_url: remote, settings });
  }

  async function failureOf(projectId: string) {
    const created = await server.api<{ ticket: { id: string; ref: string }; task: { id: string } }>(
      'POST',
      '/tickets',
      { project_id: projectId, description: 'Keep running commands', workflow_mode: 'quick' },
    );
    const events = await ticketEvents(server, created.ticket.id, (list) =>
      list.some((e) => e.type === 'task.completed' || e.type === 'task.failed'),
    );
    const end = events.find((e) => e.type === 'task.completed' || e.type === 'task.failed')!;
    expect(end.type, JSON.stringify(end.data)).toBe('task.failed');
    return { ...created, error: String(end.data.error), events };
  }

  it('stops at a token cap, at a USD cap, and refuses to start past a project cap', async () => {
    const tokens = await project('tokens', { budget: { task_tokens: 1200 } });
    const byTokens = await failureOf(tokens.id);
    // 500 tokens a call: 1500 after the third, so no fourth call.
    expect(byTokens.error).toContain('budget reached: run_tokens (1500 tokens of 1200 tokens)');
    expect(model.modelRequests()).toHaveLength(3);
    const tokenSpend = await server.api<Record<string, unknown>>(
      'GET',
      `/tickets/${byTokens.ticket.id}/spend`,
    );
    // gpt-fake has no price here: tokens only.
    expect(tokenSpend).toEqual({
      ticket_id: byTokens.ticket.id,
      usd: 0,
      tokens: 1500,
      caps: { task_tokens: 1200 },
      remaining: { usd: null, tokens: null },
    });

    // $20 per 1M tokens: 500 tokens cost $0.01 a call; $0.02 after the second, past $0.015.
    const usd = await project('usd', {
      budget: { task_usd: 0.015, project_usd: 0.015 },
      prices: { 'gpt-fake': { input: 20, output: 20 } },
    });
    const byUsd = await failureOf(usd.id);
    expect(byUsd.error).toContain('budget reached: run_usd ($0.02 of $0.015)');
    expect(model.modelRequests()).toHaveLength(5);
    const usdSpend = await server.api<{ usd: number; tokens: number; remaining: unknown }>(
      'GET',
      `/tickets/${byUsd.ticket.id}/spend`,
    );
    expect(usdSpend.usd).toBeCloseTo(0.02, 9);
    expect(usdSpend.tokens).toBe(1000);
    expect(usdSpend.remaining).toEqual({ usd: 0, tokens: null });
    // The broker crossed the soft threshold of the task's and the project's USD caps: once each.
    const thresholds = byUsd.events.filter((e) => e.type === 'budget.threshold');
    expect(thresholds.map((e) => e.data.scope)).toEqual(['task']);

    // The project's cap is used up: the next task fails before a sandbox, with no model call.
    const refused = await failureOf(usd.id);
    expect(refused.error).toBe('budget reached: project_usd ($0.02 of $0.015)');
    expect(refused.events.some((e) => e.type === 'sandbox.spawned')).toBe(false);
    expect(model.modelRequests()).toHaveLength(5);
  }, 300_000);
});
