// Done only with evidence (issue 13), end to end: a real `omoi start` (PGlite, and PostgreSQL when
// OMOI_TEST_DATABASE_URL is set), a bare repository as the remote, real workers in the local
// sandbox. The scripted runtime writes code per task (`{{spec_task_id}}` in its script); the
// offline runtime, which cannot, ends every implementation task plan-only.
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryResult } from '../../src/contracts/delivery.js';
import {
  createRemote,
  ensureBuilt,
  eventually,
  freshPostgres,
  git,
  type OmoiServer,
  startOmoi,
  ticketEvents,
} from '../e2e-run/support/harness.js';
import { dagSpec, taskId } from './support/dag-spec.js';

const databases = ['pglite', ...(process.env.OMOI_TEST_DATABASE_URL ? ['postgres'] : [])];

/** Without bubblewrap on this machine the local sandbox refuses to run unisolated unless told. */
const ISOLATION: Record<string, string> = spawnSync('bwrap', ['--version']).error
  ? { OMOI_SANDBOX_ISOLATION: 'off' }
  : {};

interface ApiTask {
  id: string;
  status: string;
  spec_task_id: string | null;
  branch: string | null;
  error: string | null;
  result: (DeliveryResult & Record<string, unknown>) | null;
  delivery?: {
    kind: string;
    merge: { branch: string; spec_task_id: string | null }[];
    requirements: string[];
  };
}
interface ApiTicket {
  id: string;
  ref: string;
  status: string;
  tasks: ApiTask[];
}

/** The spec files as the scripted runtime's `write` map. */
function specWrites(feature: string, tasks: Record<string, string[]>) {
  return Object.fromEntries(dagSpec({ feature, tasks }).map((f) => [f.path, String(f.content)]));
}

beforeAll(() => ensureBuilt(), 600_000);

describe.each(databases)('delivery with evidence on %s', (database) => {
  let root: string;
  let script: string;
  let databaseUrl: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  let server: OmoiServer;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'omoi-delivery-'));
    // The scripted runtime's script is read inside the sandbox, whose user is not this one.
    await chmod(root, 0o755);
    script = join(root, 'script.json');
    await writeFile(script, JSON.stringify({ turns: [{ message: 'idle' }] }));
    if (database === 'postgres') {
      const pgdb = await freshPostgres();
      databaseUrl = pgdb?.url;
      dropDatabase = pgdb?.drop;
    }
    server = await startOmoi({
      dataDir: join(root, 'data'),
      env: {
        AGENT_RUNTIME: 'scripted',
        OMOI_TEST_RUNTIME_SCRIPT: script,
        OMOI_LEASE_MS: '5000',
        ...ISOLATION,
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      },
    });
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await dropDatabase?.();
    await rm(root, { recursive: true, force: true });
  });

  /** A project on its own remote, a spec-driven ticket whose spec run wrote `tasks`, approved. */
  async function approved(
    feature: string,
    tasks: Record<string, string[]>,
    turns: object[],
    verify?: string,
  ) {
    const remote = await createRemote(root, `${feature.toLowerCase()}.git`);
    await writeFile(
      script,
      JSON.stringify({ turns: [{ mode: 'exploration', write: specWrites(feature, tasks) }, ...turns] }),
    );
    const project = await server.api<{ id: string }>('POST', '/projects', {
      name: `delivery-${feature}`,
      repo_url: remote,
      settings: { concurrency_limit: 2, ...(verify ? { verify_command: verify } : {}) },
    });
    const { ticket, task } = await server.api<{ ticket: { id: string; ref: string }; task: { id: string } }>(
      'POST',
      '/tickets',
      { project_id: project.id, description: `Build ${feature}`, workflow_mode: 'spec_driven' },
    );
    await eventually(async () => {
      const t = await server.api<ApiTask>('GET', `/tasks/${task.id}`);
      if (t.status === 'failed') throw new Error(`the spec run failed: ${t.error}`);
      return t.status === 'completed';
    }, 'the spec run');
    expect((await server.api<ApiTask>('GET', `/tasks/${task.id}`)).delivery).toBeNull();
    await server.api('POST', `/tickets/${ticket.id}/approve`);
    const detail = () => server.api<ApiTicket>('GET', `/tickets/${ticket.id}`);
    const byLetter = (all: ApiTask[]) =>
      Object.fromEntries(
        Object.keys(tasks).map((l) => [l, all.find((t) => t.spec_task_id === taskId(feature, l))!]),
      );
    /** Waits until every task of the spec has settled (completed, failed or blocked). */
    const settled = () =>
      eventually(
        async () => {
          const d = await detail();
          const mine = Object.values(byLetter(d.tasks));
          return mine.every((t) => ['completed', 'failed', 'blocked'].includes(t.status)) ? d : null;
        },
        'every task to settle',
        300_000,
      );
    return { remote, ticket, byLetter, settled };
  }

  const trailers = (remote: string, range: string) =>
    git(remote, 'log', '--format=%H|%(trailers:key=Omoi-Task,valueonly,separator=%x2C)', range)
      .split('\n')
      .filter(Boolean);

  it('stacks a diamond: each dependency is an ancestor of its dependant, every commit carries trailers, evidence in the result', async () => {
    const f = 'STK';
    const run = await approved(
      f,
      { A: [], B: ['A'], C: ['A'], D: ['B', 'C'] },
      [{ mode: 'implementation', write: { 'step-{{spec_task_id}}.txt': 'done by {{spec_task_id}}\n' } }],
      'test -f README.md && echo "Tests  1 passed (1)"',
    );
    const done = await run.settled();
    const t = run.byLetter(done.tasks);
    for (const task of Object.values(t))
      expect(task.status, `${task.spec_task_id}: ${task.error}`).toBe('completed');
    const tip = (l: string) => git(run.remote, 'rev-parse', t[l]!.branch!);
    for (const [dep, dependant] of [
      ['A', 'B'],
      ['A', 'C'],
      ['B', 'D'],
      ['C', 'D'],
    ])
      expect(() => git(run.remote, 'merge-base', '--is-ancestor', tip(dep!), tip(dependant!))).not.toThrow();
    // D's brief: its transitive dependencies in dependency order.
    const d = await server.api<ApiTask>('GET', `/tasks/${t.D!.id}`);
    expect(d.delivery?.kind).toBe('task');
    expect(d.delivery?.merge.map((m) => m.spec_task_id)).toEqual([
      taskId(f, 'A'),
      taskId(f, 'B'),
      taskId(f, 'C'),
    ]);
    expect(d.delivery?.requirements).toEqual([`REQ-${f}-CORE-001`]);
    expect(d.result).toMatchObject({
      ok: true,
      branch: t.D!.branch,
      commit: tip('D'),
      spec_task_id: taskId(f, 'D'),
      requirements: [`REQ-${f}-CORE-001`],
      changes: { files: 1 },
      verification: {
        passed: true,
        exit_code: 0,
        attempts: 1,
        source: 'settings',
        tests: { passed: 1, failed: 0 },
      },
    });
    expect(d.result?.merged?.map((m) => m.branch)).toEqual([t.A!.branch, t.B!.branch, t.C!.branch]);
    // Every commit past the spec branch names the task it was made for.
    const specBranch = `omoi/${run.ticket.ref}`;
    for (const [letter, task] of Object.entries(t))
      for (const line of trailers(run.remote, `${specBranch}..${task.branch}`))
        expect(line, `${letter}: ${line}`).toMatch(new RegExp(`\\|TSK-${f}-00[1-4]$`));
    expect(git(run.remote, 'log', '-1', '--format=%(trailers)', t.D!.branch!)).toBe(
      `Omoi-Task: ${taskId(f, 'D')}\nOmoi-Requirements: REQ-${f}-CORE-001`,
    );
    expect(git(run.remote, 'show', `${t.D!.branch}:step-${taskId(f, 'A')}.txt`)).toBe(
      `done by ${taskId(f, 'A')}`,
    );
  }, 400_000);

  it('gives a failing verification back to the agent, which fixes it on the second attempt', async () => {
    const verify =
      'test "$(cat answer.txt)" = 42 || { echo "answer is $(cat answer.txt), want 42"; exit 3; }';
    const run = await approved(
      'VFY',
      { A: [] },
      [
        { mode: 'implementation', write: { 'answer.txt': '41\n' } },
        { mode: 'implementation', expect: 'answer is 41, want 42', write: { 'answer.txt': '42\n' } },
      ],
      verify,
    );
    const done = await run.settled();
    const a = run.byLetter(done.tasks).A!;
    expect(a.status, a.error ?? '').toBe('completed');
    expect(a.result?.verification).toMatchObject({
      command: verify,
      passed: true,
      attempts: 2,
      exit_code: 0,
    });
    const events = await ticketEvents(
      server,
      run.ticket.id,
      (es) => es.filter((e) => e.type === 'verify.result').length >= 2,
    );
    const results = events.filter((e) => e.type === 'verify.result').map((e) => e.data);
    expect(results.map((r) => [r.attempt, r.passed])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(results[0]?.output_tail).toContain('answer is 41, want 42');
  }, 400_000);

  it('resolves a merge conflict through the agent, fails naming the files when markers remain, and fails "no changes"', async () => {
    const f = 'CNF';
    const spec = (l: string) => `Spec task: ${taskId(f, l)}`;
    const run = await approved(f, { A: [], B: [], C: ['A', 'B'], D: ['A', 'B'], E: [] }, [
      { mode: 'implementation', match: spec('A'), write: { 'shared.txt': 'from A\n' } },
      { mode: 'implementation', match: spec('B'), write: { 'shared.txt': 'from B\n' } },
      {
        mode: 'implementation',
        match: spec('C'),
        expect: '<<<<<<<',
        write: { 'shared.txt': 'from A and B\n' },
      },
      { mode: 'implementation', match: spec('C'), write: { 'c.txt': 'c\n' } },
      { mode: 'implementation', match: spec('D'), message: 'leaving it as it is' },
      { mode: 'implementation', match: spec('E'), message: 'nothing to do' },
    ]);
    const done = await run.settled();
    const t = run.byLetter(done.tasks);
    expect(t.C!.status, t.C!.error ?? '').toBe('completed');
    expect(git(run.remote, 'show', `${t.C!.branch}:shared.txt`)).toBe('from A and B');
    expect(t.C!.result?.merged?.map((m) => m.conflicts)).toEqual([[], ['shared.txt']]);
    for (const dep of ['A', 'B'])
      expect(() =>
        git(run.remote, 'merge-base', '--is-ancestor', t[dep]!.branch!, t.C!.branch!),
      ).not.toThrow();
    expect(t.D!.status).toBe('failed');
    expect(t.D!.error).toContain('conflict markers remain in shared.txt');
    expect(t.E!.status).toBe('failed');
    expect(t.E!.error).toMatch(/^no changes/);
    expect(done.status).not.toBe('done');
  }, 400_000);
});

describe('the offline runtime', () => {
  let root: string;
  let server: OmoiServer;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'omoi-delivery-offline-'));
    server = await startOmoi({
      dataDir: join(root, 'data'),
      env: { AGENT_RUNTIME: 'offline', OMOI_LEASE_MS: '5000', ...ISOLATION },
    });
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('ends implementation tasks plan-only, pushes nothing, and the ticket is not done', async () => {
    const remote = await createRemote(root, 'offline.git');
    const project = await server.api<{ id: string }>('POST', '/projects', {
      name: 'delivery-offline',
      repo_url: remote,
      settings: { auto_approve: true },
    });
    const { ticket } = await server.api<{ ticket: { id: string; ref: string } }>('POST', '/tickets', {
      project_id: project.id,
      description: 'Add a health badge to the README',
      workflow_mode: 'spec_driven',
    });
    const failed = await eventually(
      async () => {
        const d = await server.api<ApiTicket>('GET', `/tickets/${ticket.id}`);
        const run = d.tasks.find((t) => !t.spec_task_id);
        if (run?.status === 'failed') throw new Error(`the spec run failed: ${run.error}`);
        const tasks = d.tasks.filter((t) => t.spec_task_id);
        return tasks.some((t) => t.status === 'failed') &&
          tasks.every((t) => ['failed', 'blocked'].includes(t.status))
          ? d
          : null;
      },
      'the implementation tasks to end',
      300_000,
    );
    expect(failed.status).not.toBe('done');
    const first = failed.tasks.find((t) => t.spec_task_id && t.status === 'failed')!;
    expect(first.error).toBe('plan only (no model): the offline runtime cannot write code');
    expect(first.result).toMatchObject({ ok: false, plan_only: true, commit: null });
    expect(() => git(remote, 'rev-parse', '--verify', first.branch!)).toThrow();
  }, 400_000);
});
