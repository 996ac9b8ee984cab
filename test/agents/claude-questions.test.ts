// The question tool of the claude runtime with the REAL Claude Code CLI against the scripted fake
// server: the model calls AskUserQuestion, the session parks without another model call, and a new
// runtime with another config dir (HOME) and another workspace path resumes the session by id.
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAUDE_QUESTION_TOOL, claudeProjectDirName, createClaudeRuntime } from '../../src/agents/claude.js';
import type { AgentEvent, AgentSessionOptions } from '../../src/agents/runtime.js';
import { AWAITING_INPUT, type SessionCheckpoint } from '../../src/contracts/questions.js';
import type { RecordedRequest } from '../support/fake-model-server.js';
import { collect, fakeModelFixture, resultOf } from './spec-scenario.js';

const KEY = 'sk-ant-test-dummy-key';
const fx = fakeModelFixture();
const dirs: string[] = [];

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A runtime whose CLI keeps its state under `home` (a sandbox of its own), or in `configDir`. */
function runtimeIn(home: string, configDir?: string) {
  return createClaudeRuntime(
    { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fx.server!.url, OMOI_MODEL: 'claude-fake' },
    {
      maxRetries: 1,
      systemEnv: {
        PATH: process.env.PATH,
        HOME: home,
        ...(configDir ? { CLAUDE_CONFIG_DIR: configDir } : {}),
      },
    },
  );
}

function options(workspace: string, extra: Partial<AgentSessionOptions> = {}): AgentSessionOptions {
  return { workspace, systemPrompt: '', maxTurns: 10, mode: 'implementation', ...extra };
}

const ASK = {
  name: CLAUDE_QUESTION_TOOL,
  input: {
    questions: [
      {
        question: 'Which database should the audit log use?',
        header: 'Database',
        options: [
          { label: 'Postgres', description: 'The main database' },
          { label: 'SQLite', description: 'A file beside the service' },
        ],
        multiSelect: false,
      },
    ],
  },
};

const offeredTools = (request: RecordedRequest) =>
  (request.body as { tools: { name: string }[] }).tools.map((tool) => tool.name);
const messagesJson = (request: RecordedRequest) =>
  JSON.stringify((request.body as { messages: unknown }).messages);

describe('claude runtime questions (real Claude Code CLI)', () => {
  let homeA: string;
  let homeB: string;
  let workspaceA: string;
  let workspaceB: string;
  beforeAll(async () => {
    homeA = await tempDir('omoi-claude-home-a-');
    homeB = await tempDir('omoi-claude-home-b-');
    workspaceA = await tempDir('omoi-claude-ws-a-');
    workspaceB = await tempDir('omoi-claude-ws-b-');
  });

  it('parks on AskUserQuestion without another model call, and another sandbox resumes the session by id', async () => {
    await fx.serve([
      {
        text: 'Looking around first.',
        toolCalls: [
          { name: 'Write', input: { file_path: path.join(workspaceA, 'notes.md'), content: 'draft\n' } },
          { name: 'Bash', input: { command: 'env | sort; touch made-by-bash' } },
        ],
      },
      { text: 'One thing is not mine to decide.', toolCalls: [ASK] },
      { text: 'Postgres it is; the audit log is done.' },
    ]);
    const first = runtimeIn(homeA).start(options(workspaceA, { canAsk: true }));
    const events = await collect(first, 'Add an audit log to the service.');

    // Every other tool still runs without waiting for anybody (the permission callback allows it).
    expect(await readFile(path.join(workspaceA, 'notes.md'), 'utf8')).toBe('draft\n');
    expect(await readdir(workspaceA)).toContain('made-by-bash');
    const questions = events.filter((e) => e.type === 'question');
    expect(questions).toEqual([
      {
        type: 'question',
        question: { question: 'Which database should the audit log use?', options: ['Postgres', 'SQLite'] },
      },
    ]);
    const result = resultOf(events);
    expect(result).toMatchObject({ ok: false, error: AWAITING_INPUT, turns: 2 });
    expect(result.usage?.inputTokens).toBeGreaterThan(0);
    expect(result.costUsd).toBeGreaterThan(0);
    // The question is an event of its own, not a tool call.
    expect(events.some((e) => e.type === 'tool_use' && e.name === CLAUDE_QUESTION_TOOL)).toBe(false);
    // No model call after the question, not even a side call: the third scripted turn is unplayed.
    expect(fx.server!.requests.filter((r) => r.api === 'anthropic')).toHaveLength(2);
    expect(offeredTools(fx.server!.modelRequests()[0]!)).toContain(CLAUDE_QUESTION_TOOL);

    const checkpoint = await first.checkpoint!();
    await first.close();
    expect(checkpoint).toMatchObject({ runtime: 'claude', data: { version: 1 } });
    const data = checkpoint!.data as { session_id: string; transcript: string };
    const raw = await readFile(
      path.join(homeA, '.claude', 'projects', claudeProjectDirName(workspaceA), `${data.session_id}.jsonl`),
      'utf8',
    );
    // The CLI's own file holds the key (the model listed the environment); the checkpoint does not.
    expect(raw).toContain(KEY);
    expect(JSON.stringify(checkpoint)).not.toContain(KEY);
    expect(data.transcript).toContain('Which database should the audit log use?');

    // Another process: its own config dir and workspace path; the checkpoint went through JSON.
    const stored = JSON.parse(JSON.stringify(checkpoint)) as SessionCheckpoint;
    // This one names its config dir (CLAUDE_CONFIG_DIR) instead of keeping it in HOME.
    const configB = path.join(homeB, 'claude-config');
    const second = runtimeIn(homeB, configB).start(options(workspaceB, { canAsk: true, resume: stored }));
    expect(second.resumed).toBe(true);
    const resumed = await collect(second, 'The person answered your question: Postgres.');
    expect(resultOf(resumed)).toMatchObject({ ok: true, turns: 1 });
    // The CLI restores the session's total cost; the resumed run reports only its own call.
    expect(resultOf(resumed).costUsd).toBeCloseTo(result.costUsd! / 2, 8);
    expect(resumed.find((e) => e.type === 'message')).toEqual({
      type: 'message',
      text: 'Postgres it is; the audit log is done.',
    });
    await second.close();

    const requests = fx.server!.modelRequests();
    expect(requests).toHaveLength(3);
    const next = messagesJson(requests[2]!);
    // The earlier conversation (the request, the calls, the question) and then the answer.
    expect(next).toContain('Add an audit log to the service.');
    expect(next).toContain('made-by-bash');
    expect(next).toContain('Which database should the audit log use?');
    expect(next).toContain('The person answered your question: Postgres.');
    expect(next.indexOf('Which database')).toBeLessThan(next.indexOf('The person answered'));
    const restored = path.join(
      configB,
      'projects',
      claudeProjectDirName(workspaceB),
      `${data.session_id}.jsonl`,
    );
    expect(await readFile(restored, 'utf8')).toContain('Postgres it is');
  }, 120_000);

  it("counts only the resumed run's own spend against its budget", async () => {
    await fx.serve([
      { toolCalls: [ASK] },
      { toolCalls: [{ name: 'Bash', input: { command: 'true' } }] },
      { text: 'Done within budget.' },
    ]);
    const first = runtimeIn(await tempDir('omoi-claude-home-c-')).start(
      options(workspaceA, { canAsk: true }),
    );
    const asked = resultOf(await collect(first, 'Add the audit log.'));
    const checkpoint = await first.checkpoint!();
    await first.close();
    const perCall = asked.costUsd!;
    expect(perCall).toBeGreaterThan(0);
    // Room for this run's two calls; with the earlier run's call counted against it too, the run
    // would end "budget reached" (1 + 2 > 2.5).
    const runtime = createClaudeRuntime(
      {
        ANTHROPIC_API_KEY: KEY,
        ANTHROPIC_BASE_URL: fx.server!.url,
        OMOI_MODEL: 'claude-fake',
        BUDGET_USD: perCall * 2.5,
      },
      { maxRetries: 1, systemEnv: { PATH: process.env.PATH, HOME: await tempDir('omoi-claude-home-d-') } },
    );
    const second = runtime.start(options(workspaceB, { canAsk: true, resume: checkpoint! }));
    const events = await collect(second, 'The person answered: Postgres.');
    await second.close();
    expect(resultOf(events)).toMatchObject({ ok: true, turns: 2 });
    expect(resultOf(events).costUsd).toBeCloseTo(perCall * 2, 8);
  }, 120_000);

  it('starts a new conversation from a checkpoint it cannot use', async () => {
    const readable = { version: 1, session_id: 'a1b2c3', transcript: '{"type":"last-prompt"}\n' };
    for (const { resume, configDir } of [
      { resume: { runtime: 'openai', data: { version: 1, messages: [], pending_call_id: null } } },
      { resume: { runtime: 'claude', data: { ...readable, session_id: '../../escape' } } },
      // Readable, but there is nowhere to put it (the config dir cannot be created).
      { resume: { runtime: 'claude', data: readable }, configDir: '/dev/null/claude' },
    ]) {
      await fx.serve([{ text: 'Fresh start.' }]);
      const home = await tempDir('omoi-claude-home-f-');
      const agent = runtimeIn(home, configDir).start(options(workspaceB, { canAsk: true, resume }));
      expect(agent.resumed).toBe(false);
      const events = await collect(agent, 'The person answered: SQLite. Add the audit log.');
      await agent.close();
      expect(resultOf(events)).toMatchObject({ ok: true });
      const [request] = fx.server!.modelRequests();
      const json = messagesJson(request!);
      expect(json).toContain('The person answered: SQLite.');
      expect(json).not.toContain('Which database');
      await fx.server!.close();
      fx.server = undefined;
    }
  }, 120_000);

  it('allows every other tool at once when it may ask (nothing waits for a person)', async () => {
    const workspace = await tempDir('omoi-claude-ws-t-');
    const outside = await tempDir('omoi-claude-outside-');
    const file = path.join(workspace, 'src', 'a.txt');
    await fx.serve([
      { toolCalls: [{ name: 'Write', input: { file_path: file, content: 'one\n' } }] },
      { toolCalls: [{ name: 'Read', input: { file_path: file } }] },
      { toolCalls: [{ name: 'Edit', input: { file_path: file, old_string: 'one', new_string: 'two' } }] },
      { toolCalls: [{ name: 'Glob', input: { pattern: '**/*.txt' } }] },
      { toolCalls: [{ name: 'Grep', input: { pattern: 'two', path: workspace } }] },
      {
        toolCalls: [
          { name: 'Bash', input: { command: 'rm -rf src/gone && git init -q . && echo ok > b.txt' } },
        ],
      },
      { toolCalls: [{ name: 'Write', input: { file_path: path.join(outside, 'c.txt'), content: 'c' } }] },
      { text: 'All done.' },
    ]);
    const agent = runtimeIn(await tempDir('omoi-claude-home-t-')).start(options(workspace, { canAsk: true }));
    const events = await collect(agent, 'Work on the files.');
    await agent.close();
    expect(resultOf(events)).toMatchObject({ ok: true, turns: 8 });
    const results = events.flatMap((e) => (e.type === 'tool_result' ? [[e.name, e.ok]] : []));
    expect(results).toEqual(
      ['Write', 'Read', 'Edit', 'Glob', 'Grep', 'Bash', 'Write'].map((name) => [name, true]),
    );
    expect(await readFile(file, 'utf8')).toBe('two\n');
    expect(await readFile(path.join(workspace, 'b.txt'), 'utf8')).toBe('ok\n');
    expect(await readFile(path.join(outside, 'c.txt'), 'utf8')).toBe('c');
  }, 120_000);

  it('names the session folder as the CLI does for a workspace path past 200 characters', async () => {
    const long = path.join(await tempDir('omoi-claude-long-'), 'w'.repeat(120), 'x'.repeat(100));
    await mkdir(long, { recursive: true });
    await fx.serve([{ text: 'Hello.' }]);
    const home = await tempDir('omoi-claude-home-l-');
    const agent = runtimeIn(home).start(options(long, { canAsk: true }));
    expect(resultOf(await collect(agent, 'Say hello.'))).toMatchObject({ ok: true });
    const { session_id: id } = (await agent.checkpoint!())!.data as { session_id: string };
    await agent.close();
    const folder = claudeProjectDirName(long);
    expect(folder.length).toBeGreaterThan(200);
    expect(await readdir(path.join(home, '.claude', 'projects'))).toEqual([folder]);
    expect(await readdir(path.join(home, '.claude', 'projects', folder))).toContain(`${id}.jsonl`);
  }, 60_000);

  it('offers no question tool without canAsk', async () => {
    await fx.serve([{ text: 'Nothing to ask.' }]);
    const home = await tempDir('omoi-claude-home-n-');
    const agent = runtimeIn(home).start(options(workspaceB));
    const events: AgentEvent[] = await collect(agent, 'Add the audit log.');
    await agent.close();
    expect(resultOf(events)).toMatchObject({ ok: true });
    expect(offeredTools(fx.server!.modelRequests()[0]!)).not.toContain(CLAUDE_QUESTION_TOOL);
    expect(offeredTools(fx.server!.modelRequests()[0]!)).toContain('Bash');
  }, 60_000);
});
