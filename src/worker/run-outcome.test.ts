// What the worker reports besides ok/error: the agent's usage and cost summed over its turns, and,
// in a spec run, the agent's own failure (endpoint down, key refused) at once instead of a
// validation loop that hides it. The model is a stand-in runtime; git is real.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitRemote, git } from '../../test/support/git-remote.js';
import type { AgentEvent, AgentRuntime } from '../agents/runtime.js';
import { parseWorkerEnv } from '../contracts/worker-env.js';
import { cloneAndCheckout } from '../git/git.js';
import type { WorkerApiClient } from './api-client.js';
import { runWorker } from './run.js';

type Result = AgentEvent & { type: 'result' };

let root: string;
let remote: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'omoi-worker-outcome-'));
  remote = createGitRemote(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A runtime whose turn n writes `notes-n.txt` and ends with `results[n]` (the last one repeats). */
function standIn(results: Result[]) {
  const prompts: string[] = [];
  const runtime: AgentRuntime = {
    name: 'stand-in',
    label: 'stand-in',
    start: ({ workspace }) => ({
      async *send(prompt) {
        prompts.push(prompt);
        const n = prompts.length;
        await writeFile(join(workspace, `notes-${n}.txt`), `turn ${n}\n`);
        yield { type: 'message', text: `turn ${n}` };
        yield results[Math.min(n, results.length) - 1]!;
      },
      close: async () => {},
    }),
  };
  return { runtime, prompts };
}

async function run(branch: string, results: Result[], extra: Record<string, string> = {}) {
  const dir = join(root, branch.replace(/\W/g, '-'));
  await cloneAndCheckout({ repoUrl: remote, dir, baseBranch: 'main', workBranch: branch });
  const parsed = parseWorkerEnv({
    OMOIOS_API_URL: 'http://127.0.0.1:9',
    OMOIOS_API_KEY: 'tok',
    OMOIOS_PROJECT_ID: 'p1',
    TASK_ID: 'task-1',
    REPO_URL: remote,
    WORK_BRANCH: branch,
    AGENT_RUNTIME: 'offline',
    ...extra,
  });
  if (!parsed.ok) throw new Error(parsed.error);
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const api: WorkerApiClient = {
    getTask: async () => ({
      id: 'task-1',
      title: 'Do it',
      description: 'Do it well',
      project_id: 'p1',
      ticket_id: null,
    }),
    postEvent: async (_taskId, type, data) => {
      events.push({ type, data });
    },
    syncSpecs: async () => ({ created: 0, updated: 0, unchanged: 0 }),
    askQuestion: async () => {
      throw new Error("this test's agent never asks");
    },
  };
  const { runtime, prompts } = standIn(results);
  const result = await runWorker(parsed.config, {
    api,
    cwd: dir,
    log: () => {},
    signal: new AbortController().signal,
    createRuntime: async () => runtime,
  });
  return { result, events, prompts };
}

const ok = (inputTokens: number, outputTokens: number, costUsd: number): Result => ({
  type: 'result',
  ok: true,
  turns: 1,
  usage: { inputTokens, outputTokens },
  costUsd,
});

describe('worker outcome: usage and cost', () => {
  it('reports the usage and cost of a quick run in its result', async () => {
    const { result } = await run('omoi/quick-usage', [ok(1200, 340, 0.0125)], {
      EXECUTION_MODE: 'implementation',
    });
    expect(result).toMatchObject({
      ok: true,
      branch: 'omoi/quick-usage',
      usage: { input_tokens: 1200, output_tokens: 340 },
      cost_usd: 0.0125,
    });
  });

  it('sums them over every turn of a spec run, also when the run fails', async () => {
    // No .omoi_os is ever written: three failed validations, three turns.
    const { result, prompts } = await run('omoi/spec-usage', [ok(100, 10, 0.1), ok(200, 20, 0.2)], {
      REQUIRE_SPEC_SKILL: 'true',
    });
    expect(prompts).toHaveLength(3);
    expect(result).toMatchObject({
      ok: false,
      error: expect.stringMatching(/Spec validation FAILED after 3 attempts/),
      usage: { input_tokens: 500, output_tokens: 50 },
      cost_usd: 0.5,
    });
  });

  it('adds nothing when the runtime reports neither', async () => {
    const { result } = await run('omoi/quick-plain', [{ type: 'result', ok: true, turns: 1 }], {
      EXECUTION_MODE: 'implementation',
    });
    expect(result.ok).toBe(true);
    expect(result).not.toHaveProperty('usage');
    expect(result).not.toHaveProperty('cost_usd');
  });
});

describe('worker outcome: the agent failing in a spec run', () => {
  it('stops at once with the agent’s reason instead of validating three times', async () => {
    const { result, events, prompts } = await run(
      'omoi/spec-down',
      [{ type: 'result', ok: false, error: 'connect ECONNREFUSED 127.0.0.1:9', turns: 0 }],
      { REQUIRE_SPEC_SKILL: 'true' },
    );
    expect(prompts).toHaveLength(1);
    expect(result).toMatchObject({ ok: false, error: 'agent stopped: connect ECONNREFUSED 127.0.0.1:9' });
    expect(events.some((e) => e.type === 'spec.validation')).toBe(false);
    expect(events.find((e) => e.type === 'worker.failed')?.data).toEqual({
      error: 'agent stopped: connect ECONNREFUSED 127.0.0.1:9',
    });
    expect(() => git(remote, 'rev-parse', '--verify', 'omoi/spec-down')).toThrow();
  });

  it('still validates and feeds back what an agent that ran out of turns wrote', async () => {
    const { result, events, prompts } = await run(
      'omoi/spec-turns',
      [{ type: 'result', ok: false, error: 'max_turns', turns: 40 }],
      { REQUIRE_SPEC_SKILL: 'true' },
    );
    expect(prompts).toHaveLength(3);
    expect(events.filter((e) => e.type === 'spec.validation')).toHaveLength(3);
    expect(result).toMatchObject({
      ok: false,
      error: expect.stringMatching(/Spec validation FAILED after 3/),
    });
  });
});
