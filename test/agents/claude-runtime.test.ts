// Drives the REAL Claude Code CLI bundled with the Agent SDK against the scripted fake server.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClaudeRuntime } from '../../src/agents/claude.js';
import type { AgentEvent, AgentSessionOptions } from '../../src/agents/runtime.js';
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
let home: string;

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'omoi-claude-home-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

function runtimeFor(url: string, model = 'claude-fake') {
  return createClaudeRuntime(
    { ANTHROPIC_API_KEY: 'sk-ant-test-dummy-key', ANTHROPIC_BASE_URL: url, OMOI_MODEL: model },
    { maxRetries: 1, systemEnv: { PATH: process.env.PATH, HOME: home } },
  );
}

async function session(
  turns: ScriptTurn[],
  options: Partial<AgentSessionOptions> = {},
  knownModels?: string[],
) {
  const server = await fx.serve(turns, knownModels);
  return runtimeFor(server.url).start({
    workspace: fx.scenario.workspace,
    systemPrompt: '',
    maxTurns: 10,
    mode: 'exploration',
    ...options,
  });
}

const names = (events: AgentEvent[], type: 'tool_use' | 'tool_result') =>
  events.flatMap((e) => (e.type === type ? [e.name] : []));

describe('claude runtime (real Claude Code CLI), spec-driven session against the fake server', () => {
  it('writes an invalid spec set, gets the validation report in the resumed session, and repairs it', async () => {
    const abs = (file: string) => path.join(fx.scenario.workspace, file);
    const writes = fx.scenario.files.map((file) => ({
      name: 'Write',
      input: {
        file_path: abs(file.path),
        content: file.path === fx.scenario.broken.path ? fx.scenario.broken.content : file.content,
      },
    }));
    const good = fx.scenario.files.find((f) => f.path === fx.scenario.broken.path)!;
    const agent = await session(
      [
        { text: 'Planning the rate limit feature.', toolCalls: writes },
        { text: 'Wrote the spec set.' },
        { toolCalls: [{ name: 'Read', input: { file_path: abs(good.path) } }] },
        {
          toolCalls: [
            {
              name: 'Edit',
              input: {
                file_path: abs(good.path),
                old_string: 'status: todo',
                new_string: statusLine(good.content),
              },
            },
          ],
        },
        { text: 'Fixed the ticket status.' },
      ],
      { systemPrompt: fx.scenario.skill },
    );

    const first = await collect(agent, REQUEST_PROMPT);
    const firstResult = resultOf(first);
    expect(firstResult).toMatchObject({ ok: true, turns: 2 });
    expect(firstResult.usage?.outputTokens).toBeGreaterThan(0);
    expect(firstResult.costUsd).toBeGreaterThan(0);
    expect(first.find((e) => e.type === 'message')).toEqual({
      type: 'message',
      text: 'Planning the rate limit feature.',
    });
    expect(names(first, 'tool_use')).toEqual(writes.map(() => 'Write'));
    expect(first.filter((e) => e.type === 'tool_result').every((e) => e.type === 'tool_result' && e.ok)).toBe(
      true,
    );

    const check = await feedbackFor(fx.scenario.workspace);
    expect(check.passed).toBe(false);

    const second = await collect(agent, check.feedback);
    expect(resultOf(second)).toMatchObject({ ok: true, turns: 3 });
    expect(names(second, 'tool_use')).toEqual(['Read', 'Edit']);
    expect(
      second.filter((e) => e.type === 'tool_result').map((e) => e.type === 'tool_result' && e.ok),
    ).toEqual([true, true]);
    expect(await readFile(path.join(fx.scenario.workspace, good.path), 'utf8')).toBe(good.content);
    expect((await feedbackFor(fx.scenario.workspace)).passed).toBe(true);

    const requests = fx.server!.modelRequests();
    expect(requests).toHaveLength(5);
    for (const request of requests) {
      // The Claude Code preset with the skill appended.
      expect(systemTextOf(request)).toContain(SKILL_MARKER);
      expect(systemTextOf(request)).toMatch(/Claude/);
    }
    expect(conversationTextOf(requests[0]!)).toContain('Limit failed logins to five per minute');
    expect(conversationTextOf(requests[1]!)).not.toContain('Spec validation FAILED');
    // The second send resumed the same conversation: it carries the first turns and the feedback.
    expect(conversationTextOf(requests[2]!)).toContain('Limit failed logins to five per minute');
    expect(conversationTextOf(requests[2]!)).toContain(check.feedback.trim().split('\n')[0]!);
    expect(conversationTextOf(requests[2]!)).toContain(`${fx.scenario.broken.path}:`);
    // Only the allowed tools are offered; nothing that asks a person.
    const offered = (requests[0]!.body as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(offered).toEqual(expect.arrayContaining(['Read', 'Write', 'Edit', 'Bash']));
    expect(offered).not.toContain('AskUserQuestion');
    expect(offered).not.toContain('WebFetch');
    expect(JSON.stringify(fx.server!.requests)).not.toContain('sk-ant-test-dummy-key');
  });

  it('sends the preset without skill text in a quick (non-spec) session', async () => {
    const agent = await session([{ text: 'Nothing to do.' }], { systemPrompt: '', mode: 'implementation' });
    expect(resultOf(await collect(agent, 'Implement the task.'))).toMatchObject({ ok: true });
    const system = systemTextOf(fx.server!.modelRequests()[0]!);
    expect(system).toMatch(/Claude/);
    expect(system).not.toContain(SKILL_MARKER);
  });
});

describe('claude runtime environment', () => {
  it('runs the CLI with only its own variables, and redacts its key in events', async () => {
    const agent = await session([
      { toolCalls: [{ name: 'Bash', input: { command: 'env | sort' } }] },
      { text: 'The key is sk-ant-test-dummy-key.' },
    ]);
    const events = await collect(agent, 'show the environment');
    expect(resultOf(events)).toMatchObject({ ok: true });
    const output = events.flatMap((e) => (e.type === 'tool_result' ? [e.output] : [])).join('\n');
    expect(output).toContain('IS_SANDBOX=1');
    expect(output).toContain('ANTHROPIC_API_KEY=[redacted]');
    expect(output).not.toContain('sk-ant-test-dummy-key');
    // Nothing of the test process's own environment beyond PATH and HOME.
    expect(output).not.toMatch(/^(VITEST|NODE_OPTIONS|OMOI_TEST_DATABASE_URL)=/m);
    expect(events.find((e) => e.type === 'message')).toEqual({
      type: 'message',
      text: 'The key is [redacted].',
    });
  });
});

describe('claude runtime faults', () => {
  it('retries a 429, then succeeds', async () => {
    const agent = await session([{ fault: 'rate_limit' }, { text: 'Recovered.' }]);
    const events = await collect(agent, 'hi');
    expect(resultOf(events)).toMatchObject({ ok: true });
    expect(events.find((e) => e.type === 'message')).toEqual({ type: 'message', text: 'Recovered.' });
  });

  it('fails clearly when the endpoint is down', async () => {
    const dead = await startFakeModelServer({ turns: [] });
    await dead.close();
    const agent = runtimeFor(dead.url).start({
      workspace: fx.scenario.workspace,
      systemPrompt: '',
      maxTurns: 3,
      mode: 'exploration',
    });
    const result = resultOf(await collect(agent, 'hi'));
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/Connection refused|ECONNREFUSED/);
  });

  it('fails clearly when the model name is unknown', async () => {
    const agent = await session([{ text: 'unused' }], {}, ['claude-other']);
    const result = resultOf(await collect(agent, 'hi'));
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/model \(claude-fake\).*may not exist/);
  });

  it('recovers from a stream that breaks off', async () => {
    const agent = await session([{ fault: 'malformed_stream' }, { text: 'Second try.' }]);
    const events = await collect(agent, 'hi');
    expect(resultOf(events)).toMatchObject({ ok: true });
    expect(events.find((e) => e.type === 'message')).toEqual({ type: 'message', text: 'Second try.' });
  });

  it('reports a tool call with bad arguments back to the model, which corrects itself', async () => {
    const file = path.join(fx.scenario.workspace, 'notes', 'claude.md');
    const agent = await session([
      { toolCalls: [{ name: 'Write', rawArguments: '{"file_path": 12' }] },
      { toolCalls: [{ name: 'Write', input: { file_path: file, content: 'fixed\n' } }] },
      { text: 'Done.' },
    ]);
    const events = await collect(agent, 'write a note');
    expect(resultOf(events)).toMatchObject({ ok: true, turns: 3 });
    expect(
      events.filter((e) => e.type === 'tool_result').map((e) => e.type === 'tool_result' && e.ok),
    ).toEqual([false, true]);
    expect(conversationTextOf(fx.server!.modelRequests()[1]!)).toMatch(/could not be parsed as JSON/);
    expect(await readFile(file, 'utf8')).toBe('fixed\n');
  });

  it('stops at the turn limit with max_turns', async () => {
    const loop = { toolCalls: [{ name: 'Bash', input: { command: 'echo again' } }] };
    const agent = await session([loop, loop, loop, loop], { maxTurns: 2 });
    const result = resultOf(await collect(agent, 'loop'));
    expect(result).toMatchObject({ ok: false, error: 'max_turns', turns: 2 });
  });

  it('is stopped by a cancel while a command runs', async () => {
    const agent = await session([{ toolCalls: [{ name: 'Bash', input: { command: 'sleep 60' } }] }]);
    const controller = new AbortController();
    const events: AgentEvent[] = [];
    for await (const event of agent.send('run it', controller.signal)) {
      events.push(event);
      if (event.type === 'tool_use') controller.abort();
    }
    expect(resultOf(events)).toMatchObject({ ok: false, error: 'cancelled' });
    await agent.close();
  });
});
