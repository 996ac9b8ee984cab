// The claude runtime stops at the run's USD budget (BUDGET_USD -> the SDK's maxBudgetUsd): the real
// Claude Code CLI against the scripted fake server, whose usage figures make one turn cost more than
// the budget at the model's list price.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClaudeRuntime } from '../../src/agents/claude.js';
import { collect, fakeModelFixture, resultOf } from './spec-scenario.js';

const fx = fakeModelFixture();
let home: string;
beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'omoi-claude-budget-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

it('ends the run with "budget reached" once the SDK counts the budget spent', async () => {
  const model = 'claude-sonnet-4-5';
  // 200k input tokens at $3/M: $0.60 a turn, past the $0.50 budget after the first.
  const usage = { inputTokens: 200_000, outputTokens: 1000 };
  const step = { toolCalls: [{ name: 'Bash', input: { command: 'true' } }], usage };
  const server = await fx.serve([step, step, step, { text: 'done', usage }], [model]);
  const runtime = createClaudeRuntime(
    {
      ANTHROPIC_API_KEY: 'sk-ant-test-dummy-key',
      ANTHROPIC_BASE_URL: server.url,
      OMOI_MODEL: model,
      BUDGET_USD: 0.5,
    },
    { maxRetries: 1, systemEnv: { PATH: process.env.PATH, HOME: home } },
  );
  const agent = runtime.start({
    workspace: fx.scenario.workspace,
    systemPrompt: '',
    maxTurns: 10,
    mode: 'implementation',
  });
  const events = await collect(agent, 'Run true a few times.');
  const result = resultOf(events);
  expect(result).toMatchObject({ ok: false });
  expect(result.error).toMatch(/^budget reached: run_usd \(\$[\d.]+ of \$0\.5\)$/);
  expect(server.modelRequests().length).toBeLessThan(4);
  // The next send of the same session does not call the model at all.
  const before = server.modelRequests().length;
  const again = resultOf(await collect(agent, 'Go on.'));
  expect(again.error).toMatch(/^budget reached: run_usd/);
  expect(server.modelRequests().length).toBe(before);
  await agent.close();
}, 180_000);
