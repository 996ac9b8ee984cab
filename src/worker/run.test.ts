// The worker against a real git remote (a temporary bare repository) and a recording stand-in for
// the three API calls it makes; the full path through the real API is in test/e2e-run/.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitRemote, git } from '../../test/support/git-remote.js';
import { createRuntime } from '../agents/registry.js';
import { parseWorkerEnv } from '../contracts/worker-env.js';
import { cloneAndCheckout } from '../git/git.js';
import { validateSpecFiles } from '../spec-format/index.js';
import type { SpecFile } from '../spec-format/types.js';
import type { WorkerApiClient, WorkerTask } from './api-client.js';
import { runWorker } from './run.js';

let root: string;
let remote: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'omoi-worker-'));
  remote = createGitRemote(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function recordingApi(task: WorkerTask) {
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const synced: SpecFile[][] = [];
  const api: WorkerApiClient = {
    async getTask() {
      return task;
    },
    async postEvent(_taskId, type, data) {
      events.push({ type, data });
    },
    async askQuestion() {
      throw new Error("this test's agent never asks");
    },
    async syncSpecs(_projectId, files) {
      synced.push(files);
      expect(validateSpecFiles(files).valid).toBe(true);
      return { created: files.length, updated: 0, unchanged: 0 };
    },
  };
  return { api, events, synced };
}

const TASK: WorkerTask = {
  id: 'task-1',
  title: 'Plan',
  description: 'Plan it',
  project_id: 'p1',
  ticket_id: 't1',
  ticket: { id: 't1', ref: 'TKT-003', title: 'Export reports', description: 'Export reports as CSV files.' },
};

async function workspace(name: string, branch: string): Promise<string> {
  const dir = join(root, name);
  await cloneAndCheckout({ repoUrl: remote, dir, baseBranch: 'main', workBranch: branch });
  return dir;
}

function config(extra: Record<string, string>) {
  const parsed = parseWorkerEnv({
    OMOIOS_API_URL: 'http://127.0.0.1:9',
    OMOIOS_API_KEY: 'tok',
    OMOIOS_PROJECT_ID: 'p1',
    TASK_ID: 'task-1',
    REQUIRE_SPEC_SKILL: 'true',
    REPO_URL: remote,
    WORK_BRANCH: 'omoi/TKT-003',
    ...extra,
  });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.config;
}

describe('worker', () => {
  it('rejects a bad environment with a readable list', () => {
    const parsed = parseWorkerEnv({ OMOIOS_API_URL: 'not a url' });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/OMOIOS_API_URL.*TASK_ID|TASK_ID.*OMOIOS_API_URL/s);
  });

  it('runs the offline agent, validates, commits with the fixed author, pushes and syncs', async () => {
    const { api, events, synced } = recordingApi(TASK);
    const lines: string[] = [];
    const cwd = await workspace('ws-offline', 'omoi/TKT-003');
    const result = await runWorker(config({ AGENT_RUNTIME: 'offline' }), {
      api,
      cwd,
      log: (l) => lines.push(l),
      signal: new AbortController().signal,
    });
    expect(result).toMatchObject({ ok: true, branch: 'omoi/TKT-003', attempts: 1 });
    expect(lines).toContain('REQUIRE_SPEC_SKILL=true');
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['worker.started', 'skill.injected', 'agent.message', 'agent.tool_use']),
    );
    const order = events.map((e) => e.type).filter((t) => !t.startsWith('agent.'));
    expect(order).toEqual([
      'worker.started',
      'skill.injected',
      'spec.validation',
      'git.pushed',
      'spec.synced',
    ]);
    expect(events.find((e) => e.type === 'spec.validation')?.data).toMatchObject({
      passed: true,
      attempt: 1,
    });
    const head = git(remote, 'log', '-1', '--format=%an <%ae>|%s', 'omoi/TKT-003');
    expect(head).toBe('Omoi Worker <worker@omoi.local>|docs(spec): TKT-003 Export reports');
    expect(result.ok && result.commit).toBe(git(remote, 'rev-parse', 'omoi/TKT-003'));
    expect(synced[0]?.some((f) => f.path === '.omoi_os/tickets/TKT-EXPORT003-001.md')).toBe(true);
  });

  it('gives the report back to the agent and passes on the second attempt', async () => {
    const script = join(root, 'fail-then-pass.json');
    await writeFile(
      script,
      JSON.stringify({
        turns: [
          { write: { '.omoi_os/tasks/TSK-BAD-001.md': '---\nid: TSK-BAD-001\n---\nno fields\n' } },
          { remove: ['.omoi_os/tasks/TSK-BAD-001.md'], offline: true },
        ],
      }),
    );
    const { api, events } = recordingApi({ ...TASK, ticket: { ...TASK.ticket!, ref: 'TKT-004' } });
    const cwd = await workspace('ws-feedback', 'omoi/TKT-004');
    const cfg = config({
      AGENT_RUNTIME: 'scripted',
      OMOI_TEST_RUNTIME_SCRIPT: script,
      WORK_BRANCH: 'omoi/TKT-004',
    });
    const result = await runWorker(cfg, {
      api,
      cwd,
      log: () => {},
      signal: new AbortController().signal,
      createRuntime: (name, c) => createRuntime(name, c),
    });
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    const validations = events.filter((e) => e.type === 'spec.validation').map((e) => e.data);
    expect(validations.map((v) => [v.passed, v.attempt])).toEqual([
      [false, 1],
      [true, 2],
    ]);
    expect(JSON.stringify(validations[0]?.issues)).toContain('FIELD_MISSING');
  });

  it('gives up after SPEC_MAX_ATTEMPTS failures and pushes nothing', async () => {
    const script = join(root, 'always-bad.json');
    await writeFile(script, JSON.stringify({ turns: [{ write: { '.omoi_os/tasks/TSK-X.md': 'junk' } }] }));
    const { api, events, synced } = recordingApi(TASK);
    const cwd = await workspace('ws-giveup', 'omoi/TKT-005');
    const result = await runWorker(
      config({ AGENT_RUNTIME: 'scripted', OMOI_TEST_RUNTIME_SCRIPT: script, WORK_BRANCH: 'omoi/TKT-005' }),
      { api, cwd, log: () => {}, signal: new AbortController().signal },
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/Spec validation FAILED after 3 attempts/);
    expect(events.filter((e) => e.type === 'spec.validation').map((e) => e.data.passed)).toEqual([
      false,
      false,
      false,
    ]);
    expect(events.some((e) => e.type === 'git.pushed')).toBe(false);
    expect(synced).toHaveLength(0);
    expect(() => git(remote, 'rev-parse', '--verify', 'omoi/TKT-005')).toThrow();
  });
});
