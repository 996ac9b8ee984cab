// The real worker (src/worker/run.ts) driving each model runtime against the scripted fake server:
// skill injection, the validation feedback loop, commit and push to a real bare repository, sync.
// The API is a recording stand-in here; the path through `omoi start` is the e2e-run suite's.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClaudeRuntime } from '../../src/agents/claude.js';
import { draftSpecSet, parseRequest } from '../../src/agents/offline.js';
import { createOpenAiRuntime } from '../../src/agents/openai.js';
import type { AskQuestion, Question } from '../../src/contracts/questions.js';
import { parseWorkerEnv, type WorkerConfig } from '../../src/contracts/worker-env.js';
import { cloneAndCheckout } from '../../src/git/git.js';
import { validateSpecFiles } from '../../src/spec-format/index.js';
import type { WorkerApiClient, WorkerTask } from '../../src/worker/api-client.js';
import { buildUserPrompt } from '../../src/worker/prompt.js';
import { runWorker } from '../../src/worker/run.js';
import {
  conversationTextOf,
  type FakeModelServer,
  type ScriptTurn,
  startFakeModelServer,
  systemTextOf,
} from '../support/fake-model-server.js';
import { breakStatus, FEEDBACK_MARKER, SKILL_MARKER } from './spec-scenario.js';

let root: string;
let remote: string;
let home: string;
let server: FakeModelServer | undefined;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'omoi-agents-worker-'));
  home = path.join(root, 'home');
  remote = path.join(root, 'remote.git');
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  const seed = path.join(root, 'seed');
  git(root, 'clone', '--quiet', remote, seed);
  await writeFile(path.join(seed, 'README.md'), '# app\n');
  git(seed, 'add', '.');
  git(seed, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'init');
  git(seed, 'push', '--quiet', 'origin', 'HEAD:main');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function task(ref: string): WorkerTask {
  return {
    id: `task-${ref}`,
    title: 'Plan',
    description: 'Plan it',
    project_id: 'p1',
    ticket_id: 't1',
    ticket: {
      id: 't1',
      ref,
      title: 'Export reports',
      description: 'Export reports as CSV files for a date range.',
    },
  };
}

/** The question as the server stores it, once answered (TaskDetail.resume.question). */
function answeredQuestion(current: WorkerTask, asked: AskQuestion, answer: string): Question {
  return {
    id: 'q1',
    project_id: current.project_id,
    ticket_id: current.ticket_id,
    task_id: current.id,
    ticket_ref: current.ticket?.ref ?? null,
    task_title: current.title,
    kind: 'agent',
    question: asked.question,
    options: asked.options ?? [],
    why: asked.why ?? null,
    status: 'answered',
    answer,
    answered_by: 'tester',
    asked_at: new Date().toISOString(),
    answered_at: new Date().toISOString(),
  };
}

function recordingApi(current: WorkerTask) {
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const synced: string[][] = [];
  const asked: AskQuestion[] = [];
  const api: WorkerApiClient = {
    getTask: async () => current,
    postEvent: async (_id, type, data) => {
      events.push({ type, data });
    },
    askQuestion: async (_id, question) => {
      // What the server would store: the body as JSON.
      asked.push(JSON.parse(JSON.stringify(question)) as AskQuestion);
      return answeredQuestion(current, question, '');
    },
    syncSpecs: async (_project, files) => {
      expect(validateSpecFiles(files).valid).toBe(true);
      synced.push(files.map((f) => f.path));
      return { created: files.length, updated: 0, unchanged: 0 };
    },
  };
  return { api, events, synced, asked };
}

type Runtime = 'openai' | 'claude';

/** Tool calls that write `files`, in each runtime's own tool vocabulary. */
function writeCalls(runtime: Runtime, workspace: string, files: { path: string; content: string }[]) {
  return files.map((f) =>
    runtime === 'openai'
      ? { name: 'write_file', input: { path: f.path, content: f.content } }
      : { name: 'Write', input: { file_path: path.join(workspace, f.path), content: f.content } },
  );
}

async function runScenario(
  runtime: Runtime,
  ref: string,
  turns: (workspace: string) => ScriptTurn[],
  spec: boolean,
  options: {
    endpointDown?: boolean;
    maxTurns?: number;
    /** A later run of the same task (resumed): its task, its own workspace and CLI home, the same model server. */
    later?: { task: WorkerTask; workspace: string; home: string };
  } = {},
) {
  const current = options.later?.task ?? task(ref);
  const branch = `omoi/${ref}`;
  const workspace = options.later?.workspace ?? path.join(root, `ws-${runtime}-${ref}`);
  await cloneAndCheckout({ repoUrl: remote, dir: workspace, baseBranch: 'main', workBranch: branch });
  if (options.later) server!.addTurns(turns(workspace));
  else server = await startFakeModelServer({ turns: turns(workspace) });
  const model = server!;
  if (options.endpointDown) await model.close();
  const env = {
    OMOIOS_API_URL: 'http://127.0.0.1:9',
    OMOIOS_API_KEY: 'worker-token',
    OMOIOS_PROJECT_ID: 'p1',
    TASK_ID: current.id,
    AGENT_RUNTIME: runtime,
    REPO_URL: remote,
    WORK_BRANCH: branch,
    MAX_TURNS: String(options.maxTurns ?? 8),
    EXECUTION_MODE: spec ? 'exploration' : 'implementation',
    ...(spec ? { REQUIRE_SPEC_SKILL: 'true' } : {}),
    ...(runtime === 'openai'
      ? { OPENAI_BASE_URL: `${model.url}/v1`, OPENAI_API_KEY: 'sk-test', OMOI_MODEL: 'gpt-fake' }
      : { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-ant-test', OMOI_MODEL: 'claude-fake' }),
  };
  const parsed = parseWorkerEnv(env);
  if (!parsed.ok) throw new Error(parsed.error);
  const { api, events, synced, asked } = recordingApi(current);
  const cliHome = options.later?.home ?? home;
  const lines: string[] = [];
  const result = await runWorker(parsed.config, {
    api,
    cwd: workspace,
    log: (line) => lines.push(line),
    signal: new AbortController().signal,
    // The two runtimes with fewer retries (a dead endpoint fails fast) and the Claude Code CLI's
    // HOME kept out of the real one.
    createRuntime: async (name: string, config: WorkerConfig) =>
      name === 'claude'
        ? createClaudeRuntime(config, { maxRetries: 2, systemEnv: { PATH: process.env.PATH, HOME: cliHome } })
        : createOpenAiRuntime(config, { maxRetries: 1 }),
  });
  return { result, events, synced, asked, lines, branch, current, requests: model.modelRequests() };
}

describe.each(['openai', 'claude'] as const)('worker with the %s runtime', (runtime) => {
  it('spec_driven: skill in the system prompt, invalid specs, the report fed back, repaired, pushed, synced', async () => {
    const ref = runtime === 'openai' ? 'TKT-101' : 'TKT-102';
    const files = draftSpecSet(parseRequest(buildUserPrompt(task(ref), 'exploration')), '2026-01-15');
    const ticket = files.find((f) => f.path.includes('/tickets/'))!;
    const brokenTicket = {
      ...ticket,
      content: breakStatus(ticket.content),
    };
    expect(brokenTicket.content).not.toBe(ticket.content);
    const run = await runScenario(
      runtime,
      ref,
      (ws) => [
        {
          text: 'Writing the spec set.',
          toolCalls: writeCalls(
            runtime,
            ws,
            files.map((f) => (f === ticket ? brokenTicket : f)),
          ),
        },
        { text: 'Done planning.' },
        { text: 'Fixing the priority.', toolCalls: writeCalls(runtime, ws, [ticket]) },
        { text: 'Fixed.' },
      ],
      true,
    );

    expect(run.result).toMatchObject({ ok: true, branch: run.branch, attempts: 2 });
    const validations = run.events.filter((e) => e.type === 'spec.validation').map((e) => e.data.passed);
    expect(validations).toEqual([false, true]);
    expect(run.events.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'worker.started',
        'skill.injected',
        'agent.message',
        'agent.tool_use',
        'git.pushed',
      ]),
    );
    expect(run.events.find((e) => e.type === 'worker.started')?.data).toMatchObject({ runtime });
    expect(run.events.at(-1)).toMatchObject({ type: 'spec.synced', data: { created: files.length } });

    expect(run.requests).toHaveLength(4);
    expect(systemTextOf(run.requests[0]!)).toContain(SKILL_MARKER);
    // The worker's validation report is the next user turn, naming the broken file.
    const feedback = conversationTextOf(run.requests[2]!);
    expect(feedback).toContain(FEEDBACK_MARKER);
    expect(feedback).toContain(`${ticket.path}:`);
    expect(conversationTextOf(run.requests[1]!)).not.toContain(FEEDBACK_MARKER);

    expect(git(remote, 'log', '-1', '--format=%an|%s', run.branch)).toBe(
      `Omoi Worker|docs(spec): ${ref} Export reports`,
    );
    expect(git(remote, 'show', `${run.branch}:${ticket.path}`)).toBe(ticket.content.trim());
    expect(run.synced[0]).toEqual(expect.arrayContaining(files.map((f) => f.path)));
  });

  it('quick: no skill text, the change is committed and pushed', async () => {
    const ref = runtime === 'openai' ? 'TKT-201' : 'TKT-202';
    const run = await runScenario(
      runtime,
      ref,
      (ws) => [
        { toolCalls: writeCalls(runtime, ws, [{ path: 'src/export.txt', content: 'csv export\n' }]) },
        { text: 'Implemented.' },
      ],
      false,
    );
    expect(run.result).toMatchObject({ ok: true, branch: run.branch });
    expect(run.events.map((e) => e.type)).not.toContain('skill.injected');
    expect(systemTextOf(run.requests[0]!)).not.toContain(SKILL_MARKER);
    expect(git(remote, 'show', `${run.branch}:src/export.txt`)).toBe('csv export');
  });
});

describe.each(['openai', 'claude'] as const)(
  'worker with the %s runtime and a failing model endpoint',
  (runtime) => {
    const ref = (n: number) => `TKT-${runtime === 'openai' ? 4 : 5}0${n}`;
    const note = (ws: string) => writeCalls(runtime, ws, [{ path: 'NOTES.md', content: 'done\n' }]);

    it('completes after a 429, a broken stream and a tool call with bad arguments', async () => {
      const badArguments = runtime === 'openai' ? 'write_file' : 'Write';
      const run = await runScenario(
        runtime,
        ref(1),
        (ws) => [
          { fault: 'rate_limit' },
          { fault: 'malformed_stream' },
          { toolCalls: [{ name: badArguments, rawArguments: '{"path": ' }] },
          { toolCalls: note(ws) },
          { text: 'Done.' },
        ],
        false,
      );
      expect(run.result).toMatchObject({ ok: true, branch: run.branch });
      expect(git(remote, 'show', `${run.branch}:NOTES.md`)).toBe('done');
      // The failed tool call is visible in the timeline.
      expect(run.events).toContainEqual(
        expect.objectContaining({ type: 'agent.tool_use', data: expect.objectContaining({ ok: false }) }),
      );
    });

    it('fails, naming the endpoint, when the model server is down', async () => {
      const run = await runScenario(runtime, ref(2), () => [], false, { endpointDown: true });
      expect(run.result.ok).toBe(false);
      const reason = run.result.ok ? '' : run.result.error;
      expect(reason).toMatch(
        /agent stopped: .*(Cannot reach the model endpoint|Connection refused|ECONNREFUSED)/,
      );
      expect(run.events.at(-1)).toMatchObject({ type: 'worker.failed', data: { error: reason } });
    });

    it('fails with max_turns when the agent never stops', async () => {
      const loop = (ws: string) => ({ toolCalls: note(ws) });
      const run = await runScenario(
        runtime,
        ref(3),
        (ws) => [loop(ws), loop(ws), loop(ws), loop(ws)],
        false,
        {
          maxTurns: 2,
        },
      );
      expect(run.result).toMatchObject({ ok: false, error: 'agent stopped: max_turns' });
      expect(run.events.at(-1)).toMatchObject({ type: 'worker.failed' });
    });
  },
);

describe.each(['openai', 'claude'] as const)('worker with the %s runtime: the agent asks', (runtime) => {
  const QUESTION = 'Which format should the export use?';
  const ask =
    runtime === 'openai'
      ? {
          name: 'ask_user',
          input: { question: QUESTION, options: ['CSV', 'JSON'], why: 'Both fit the request.' },
        }
      : {
          name: 'AskUserQuestion',
          input: {
            questions: [
              {
                question: QUESTION,
                header: 'Format',
                options: [
                  { label: 'CSV', description: 'One row per line' },
                  { label: 'JSON', description: 'One document' },
                ],
                multiSelect: false,
              },
            ],
          },
        };

  /** The first run (asks, after writing `before` if given) and a later run elsewhere with the answer. */
  async function askThenResume(ref: string, before: { path: string; content: string }[]) {
    const first = await runScenario(
      runtime,
      ref,
      (ws) => [
        ...(before.length > 0 ? [{ toolCalls: writeCalls(runtime, ws, before) }] : []),
        { text: 'Starting the export.', toolCalls: [ask] },
      ],
      false,
    );
    expect(first.result).toMatchObject({ ok: false, awaiting_input: true });
    expect(first.asked).toHaveLength(1);
    const [question] = first.asked;
    // The answer comes; another sandbox (workspace path, CLI home) runs the task again.
    const resume = {
      question: answeredQuestion(first.current, question!, 'CSV'),
      checkpoint: question!.checkpoint ?? null,
    };
    const second = await runScenario(
      runtime,
      ref,
      (ws) => [
        {
          text: 'CSV it is.',
          toolCalls: writeCalls(runtime, ws, [{ path: 'src/export.txt', content: 'csv\n' }]),
        },
        { text: 'Exported as CSV.' },
      ],
      false,
      {
        later: {
          task: { ...first.current, resume },
          workspace: path.join(root, `ws-${runtime}-${ref}-resumed`),
          home: path.join(root, `home-${runtime}-${ref}-resumed`),
        },
      },
    );
    return { first, question: question!, second };
  }

  it('parks with the conversation, and a later run elsewhere resumes it with the answer', async () => {
    const { first, question, second } = await askThenResume(runtime === 'openai' ? 'TKT-701' : 'TKT-702', []);
    expect(question).toMatchObject({ question: QUESTION, options: ['CSV', 'JSON'] });
    expect(question.checkpoint).toMatchObject({ runtime, data: { version: 1 } });
    expect(JSON.stringify(question)).not.toMatch(/sk-ant-test|sk-test/);
    // No model call after the question.
    expect(first.requests).toHaveLength(1);

    expect(second.result).toMatchObject({ ok: true, branch: second.branch });
    expect(second.requests).toHaveLength(3);
    // The first request after the answer carries the earlier conversation and then the answer.
    const resumed = JSON.stringify((second.requests[1]!.body as { messages: unknown }).messages);
    expect(resumed).toContain('Starting the export.');
    expect(resumed).toContain(QUESTION);
    expect(resumed.indexOf(QUESTION)).toBeLessThan(resumed.lastIndexOf('CSV'));
    expect(git(remote, 'show', `${second.branch}:src/export.txt`)).toBe('csv');
  });

  // The parked run pushed its checkpoint commit; the resumed run builds on it (a fast-forward push)
  // and counts its change from below it.
  it('keeps the work from before the question when it resumes (the push after a checkpoint commit)', async () => {
    const draft = [{ path: 'src/draft.txt', content: 'draft\n' }];
    const { second } = await askThenResume(runtime === 'openai' ? 'TKT-711' : 'TKT-712', draft);
    expect(second.result).toMatchObject({ ok: true, branch: second.branch });
    expect(git(remote, 'show', `${second.branch}:src/draft.txt`)).toBe('draft');
    expect(git(remote, 'show', `${second.branch}:src/export.txt`)).toBe('csv');
  });
});
