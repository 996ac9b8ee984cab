// The delivery loop against a real git remote (a temporary bare repository) and the scripted
// runtime: stacked merges, conflicts, verification with feedback, trailers, "no changes" and the
// offline runtime's plan-only end. The same path through the real server is test/exec/delivery.test.ts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitRemote, git } from '../../test/support/git-remote.js';
import type { DeliveryBrief } from '../contracts/delivery.js';
import { parseWorkerEnv } from '../contracts/worker-env.js';
import type { WorkerOutcome } from '../contracts/worker-outcome.js';
import { cloneAndCheckout } from '../git/git.js';
import type { WorkerApiClient, WorkerTask } from './api-client.js';
import { PLAN_ONLY_ERROR } from './delivery.js';
import { runWorker } from './run.js';

let root: string;
let remote: string;
let runs = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'omoi-delivery-'));
  remote = createGitRemote(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const branchOf = (spec: string) => `omoi/TKT-009-${spec}`;

interface RunInput {
  spec: string;
  /** Spec task ids whose branches this task merges, in order. */
  merge?: string[];
  turns?: object[];
  verify?: string | null;
  runtime?: string;
  kind?: DeliveryBrief['kind'];
  maxAttempts?: number;
}

/** Runs one task through the worker; returns the outcome and the events it posted. */
async function runTask(input: RunInput) {
  runs += 1;
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const brief: DeliveryBrief = {
    kind: input.kind ?? 'task',
    merge: (input.merge ?? []).map((s) => ({ task_id: `id-${s}`, spec_task_id: s, branch: branchOf(s) })),
    verify_command: input.verify ?? null,
    spec_task_id: input.kind === 'integration' ? null : input.spec,
    requirements: ['REQ-X-001', 'REQ-X-002'],
  };
  const task: WorkerTask = {
    id: `id-${input.spec}`,
    title: `${input.spec}: do it`,
    description: `Implement ${input.spec}.`,
    project_id: 'p1',
    ticket_id: 't1',
    spec_task_id: brief.spec_task_id,
    delivery: brief,
    ticket: { id: 't1', ref: 'TKT-009', title: 'Stack', description: 'Stack things.' },
  };
  const api: WorkerApiClient = {
    getTask: async () => task,
    postEvent: async (_id, type, data) => {
      events.push({ type, data: data as Record<string, unknown> });
    },
    syncSpecs: async () => ({ created: 0, updated: 0, unchanged: 0 }),
    askQuestion: async () => {
      throw new Error("this test's agent never asks");
    },
  };
  const script = join(root, `script-${runs}.json`);
  await writeFile(script, JSON.stringify({ turns: input.turns ?? [{ message: 'nothing' }] }));
  const cwd = join(root, `ws-${runs}`);
  await cloneAndCheckout({ repoUrl: remote, dir: cwd, baseBranch: 'main', workBranch: branchOf(input.spec) });
  const parsed = parseWorkerEnv({
    OMOIOS_API_URL: 'http://127.0.0.1:9',
    OMOIOS_API_KEY: 'tok',
    OMOIOS_PROJECT_ID: 'p1',
    TASK_ID: task.id,
    EXECUTION_MODE: 'implementation',
    AGENT_RUNTIME: input.runtime ?? 'scripted',
    OMOI_TEST_RUNTIME_SCRIPT: script,
    REPO_URL: remote,
    WORK_BRANCH: branchOf(input.spec),
    VERIFY_MAX_ATTEMPTS: String(input.maxAttempts ?? 3),
  });
  if (!parsed.ok) throw new Error(parsed.error);
  const outcome: WorkerOutcome = await runWorker(parsed.config, {
    api,
    cwd,
    log: () => {},
    signal: new AbortController().signal,
  });
  return { outcome, events, cwd };
}

const writeTurn = (files: Record<string, string>, extra: object = {}) => ({ write: files, ...extra });
const trailersOf = (ref: string) =>
  git(
    remote,
    'log',
    '--format=%H %(trailers:key=Omoi-Task,valueonly,separator=%x2C)|%(trailers:key=Omoi-Requirements,valueonly)',
    `main..${ref}`,
  )
    .split('\n')
    .filter(Boolean);

describe('delivery', () => {
  it('stacks a diamond: every dependency commit is an ancestor of its dependant, every commit has trailers', async () => {
    const a = await runTask({ spec: 'TSK-A', turns: [writeTurn({ 'a.txt': 'a\n' })] });
    expect(a.outcome).toMatchObject({ ok: true, branch: branchOf('TSK-A'), merged: [] });
    const b = await runTask({ spec: 'TSK-B', merge: ['TSK-A'], turns: [writeTurn({ 'b.txt': 'b\n' })] });
    const c = await runTask({ spec: 'TSK-C', merge: ['TSK-A'], turns: [writeTurn({ 'c.txt': 'c\n' })] });
    const d = await runTask({
      spec: 'TSK-D',
      merge: ['TSK-A', 'TSK-B', 'TSK-C'],
      turns: [writeTurn({ 'd.txt': 'd\n' })],
    });
    for (const r of [b, c, d]) expect(r.outcome.ok, JSON.stringify(r.outcome)).toBe(true);
    const tip = (s: string) => git(remote, 'rev-parse', branchOf(s));
    for (const [dep, dependant] of [
      ['TSK-A', 'TSK-B'],
      ['TSK-A', 'TSK-C'],
      ['TSK-B', 'TSK-D'],
      ['TSK-C', 'TSK-D'],
    ] as const)
      expect(() => git(remote, 'merge-base', '--is-ancestor', tip(dep), tip(dependant))).not.toThrow();
    expect(git(remote, 'show', `${branchOf('TSK-D')}:a.txt`)).toBe('a');
    expect(d.outcome).toMatchObject({
      merged: [
        { branch: branchOf('TSK-A'), commit: tip('TSK-A'), conflicts: [] },
        { branch: branchOf('TSK-B'), commit: tip('TSK-B'), conflicts: [] },
        { branch: branchOf('TSK-C'), commit: tip('TSK-C'), conflicts: [] },
      ],
      changes: { files: 1, insertions: 1, deletions: 0 },
      spec_task_id: 'TSK-D',
      requirements: ['REQ-X-001', 'REQ-X-002'],
      verification: { command: null, source: 'none', passed: false, unverified: expect.any(String) },
    });
    // The base commit is the spec branch with the dependencies merged in; the change is D's own.
    const base = d.outcome.base_commit!;
    expect(git(remote, 'rev-parse', `${tip('TSK-D')}^`)).toBe(base);
    expect(d.events.filter((e) => e.type === 'git.merged').map((e) => e.data.branch)).toEqual(
      ['TSK-A', 'TSK-B', 'TSK-C'].map(branchOf),
    );
    // Every commit the worker made on D's branch (merges included) names D and its requirements.
    const worker = git(
      remote,
      'log',
      '--format=%H',
      '--author=Omoi Worker',
      `main..${branchOf('TSK-D')}`,
    ).split('\n');
    const own = trailersOf(branchOf('TSK-D')).filter((l) => worker.includes(l.split(' ')[0]!));
    expect(own.length).toBeGreaterThanOrEqual(4);
    for (const line of trailersOf(branchOf('TSK-D')))
      expect(line).toMatch(/ TSK-[ABCD]\|REQ-X-001, REQ-X-002$/);
    expect(git(remote, 'log', '-1', '--format=%(trailers)', branchOf('TSK-D'))).toBe(
      'Omoi-Task: TSK-D\nOmoi-Requirements: REQ-X-001, REQ-X-002',
    );
  });

  it('gives a failing verification back to the agent, which fixes it on the second attempt', async () => {
    const verify =
      'test "$(cat answer.txt)" = 42 || { echo "answer is $(cat answer.txt), want 42"; exit 3; }';
    const r = await runTask({
      spec: 'TSK-V',
      verify,
      turns: [
        writeTurn({ 'answer.txt': '41\n' }),
        writeTurn({ 'answer.txt': '42\n' }, { expect: 'answer is 41, want 42' }),
      ],
    });
    expect(r.outcome).toMatchObject({
      ok: true,
      verification: { command: verify, source: 'settings', passed: true, exit_code: 0, attempts: 2 },
    });
    const results = r.events.filter((e) => e.type === 'verify.result').map((e) => e.data);
    expect(results.map((v) => [v.attempt, v.passed, v.exit_code])).toEqual([
      [1, false, 3],
      [2, true, 0],
    ]);
    expect(results[0]?.output_tail).toContain('answer is 41, want 42');
    expect(git(remote, 'show', `${branchOf('TSK-V')}:answer.txt`)).toBe('42');
  });

  it('fails after VERIFY_MAX_ATTEMPTS with the evidence, and the command never sees the worker token', async () => {
    process.env.OMOIOS_API_KEY = 'omoi_wt_secretsecret';
    try {
      const verify = 'test -z "$OMOIOS_API_KEY" && test "$CI" = 1 && echo clean && exit 7';
      const r = await runTask({
        spec: 'TSK-F',
        verify,
        maxAttempts: 2,
        turns: [writeTurn({ 'f.txt': 'f\n' })],
      });
      expect(r.outcome).toMatchObject({
        ok: false,
        error: `verification failed: ${verify} exited 7 after 2 attempts`,
        verification: { passed: false, exit_code: 7, attempts: 2 },
      });
      expect(r.outcome.verification?.output_tail).toContain('clean');
      // The evidence is pushed: the branch is what a person or a retry reads.
      expect(r.outcome.commit).toBe(git(remote, 'rev-parse', branchOf('TSK-F')));
    } finally {
      delete process.env.OMOIOS_API_KEY;
    }
  });

  it('fails a run that changed nothing, and pushes nothing', async () => {
    const r = await runTask({ spec: 'TSK-N', turns: [{ message: 'looked around' }] });
    expect(r.outcome).toMatchObject({ ok: false, error: expect.stringMatching(/^no changes/) });
    expect(() => git(remote, 'rev-parse', '--verify', branchOf('TSK-N'))).toThrow();
  });

  it('ends an offline run plan-only: not ok, nothing pushed', async () => {
    const r = await runTask({ spec: 'TSK-O', runtime: 'offline' });
    expect(r.outcome).toMatchObject({ ok: false, error: PLAN_ONLY_ERROR, plan_only: true, commit: null });
    expect(() => git(remote, 'rev-parse', '--verify', branchOf('TSK-O'))).toThrow();
  });

  describe('merge conflicts', () => {
    beforeAll(async () => {
      await runTask({ spec: 'TSK-P', turns: [writeTurn({ 'shared.txt': 'from P\n' })] });
      await runTask({ spec: 'TSK-Q', turns: [writeTurn({ 'shared.txt': 'from Q\n' })] });
    });

    it('gives the conflict to the agent as its first turn and concludes the merge', async () => {
      const r = await runTask({
        spec: 'TSK-R',
        merge: ['TSK-P', 'TSK-Q'],
        turns: [
          writeTurn({ 'shared.txt': 'from P and Q\n' }, { expect: '<<<<<<<' }),
          writeTurn({ 'r.txt': 'r\n' }),
        ],
      });
      expect(r.outcome, JSON.stringify(r.outcome)).toMatchObject({
        ok: true,
        merged: [
          { branch: branchOf('TSK-P'), conflicts: [] },
          { branch: branchOf('TSK-Q'), conflicts: ['shared.txt'] },
        ],
      });
      expect(git(remote, 'show', `${branchOf('TSK-R')}:shared.txt`)).toBe('from P and Q');
      for (const dep of ['TSK-P', 'TSK-Q'])
        expect(() =>
          git(remote, 'merge-base', '--is-ancestor', branchOf(dep), branchOf('TSK-R')),
        ).not.toThrow();
      expect(r.events.find((e) => e.type === 'git.merged' && e.data.resolved)?.data.conflicts).toEqual([
        'shared.txt',
      ]);
    });

    it('fails naming the files when the agent leaves conflict markers', async () => {
      const r = await runTask({ spec: 'TSK-S', merge: ['TSK-P', 'TSK-Q'], turns: [{ message: 'gave up' }] });
      expect(r.outcome).toMatchObject({
        ok: false,
        error: `unresolved merge conflict merging ${branchOf('TSK-Q')}: conflict markers remain in shared.txt`,
      });
    });

    it('fails at once naming the files under the offline runtime', async () => {
      const r = await runTask({ spec: 'TSK-T', merge: ['TSK-P', 'TSK-Q'], runtime: 'offline' });
      expect(r.outcome).toMatchObject({ ok: false, error: expect.stringContaining('in shared.txt') });
      expect(r.events.filter((e) => e.type.startsWith('agent.'))).toEqual([]);
    });

    it('an integration run merges every branch without an agent turn and verifies the result', async () => {
      const r = await runTask({
        spec: 'feature',
        kind: 'integration',
        merge: ['TSK-A', 'TSK-B', 'TSK-C', 'TSK-D'],
        verify: 'test -f a.txt && test -f d.txt',
        runtime: 'offline',
      });
      expect(r.outcome, JSON.stringify(r.outcome)).toMatchObject({
        ok: true,
        verification: { passed: true, attempts: 1 },
      });
      expect(r.events.filter((e) => e.type.startsWith('agent.'))).toEqual([]);
      expect(
        git(remote, 'log', '-1', '--format=%(trailers:key=Omoi-Task,valueonly)', branchOf('feature')),
      ).toBe('id-feature');
      // Its evidence counts what the merges brought (the pull request's diff), not the empty commit
      // after them.
      const outcome = r.outcome as { base_commit?: string; changes?: { files: number } };
      expect(outcome.changes?.files).toBe(4);
      expect(() =>
        git(remote, 'merge-base', '--is-ancestor', branchOf('TSK-A'), outcome.base_commit!),
      ).toThrow();
    });
  });
});
