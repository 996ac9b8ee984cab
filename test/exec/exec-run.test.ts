// From an approved spec to shipped work, end to end: a real `omoi start` (PGlite, and PostgreSQL
// when OMOI_TEST_DATABASE_URL is set), a bare repository as the remote, real workers in the local
// sandbox. The scripted test runtime writes the spec in the spec run; implementation runs sleep a
// little (so overlaps show) and then write a file named after their spec task — a real change,
// committed and pushed on each task's own branch. (The offline runtime cannot write code: its
// implementation runs end "plan only", test/exec/delivery.test.ts.)
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { DIAMOND, dagSpec, taskId } from './support/dag-spec.js';

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
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
  depends_on: string[];
}
interface ApiTicket {
  id: string;
  ref: string;
  status: string;
  tasks: ApiTask[];
  spec_documents: { spec_id: string; kind: string; frontmatter: Record<string, unknown> }[];
}

/** The spec files as the scripted runtime's `write` map. */
function writes(feature: string) {
  return Object.fromEntries(dagSpec({ feature, tasks: DIAMOND }).map((f) => [f.path, String(f.content)]));
}

/** An implementation turn's change: one file per spec task (the scripted runtime fills in the id). */
const STEP = { 'step-{{spec_task_id}}.txt': 'done by {{spec_task_id}}\n' };

beforeAll(() => ensureBuilt(), 600_000);

describe.each(databases)('approved spec executed in dependency order on %s', (database) => {
  let root: string;
  let script: string;
  let databaseUrl: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  let server: OmoiServer;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'omoi-exec-'));
    // The scripted runtime's script is read inside the sandbox, whose user is not this one.
    await chmod(root, 0o755);
    script = join(root, 'script.json');
    await writeFile(script, JSON.stringify({ turns: [{ offline: true }] }));
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

  /** The ticket's board moves, from the full event log (SSE replay), once it has reached `last`. */
  async function moves(ticketId: string, last: string): Promise<unknown[]> {
    const events = await ticketEvents(server, ticketId, (es) =>
      es.some((e) => e.type === 'ticket.status_changed' && e.data.to === last),
    );
    return events.filter((e) => e.type === 'ticket.status_changed').map((e) => e.data.to);
  }

  /** A project with its own remote and a concurrency limit of 2, and a spec-driven ticket whose spec run wrote `feature`'s diamond. */
  async function approvedDiamond(feature: string, implementation: object[]) {
    const remote = await createRemote(root, `${feature.toLowerCase()}.git`);
    await writeFile(
      script,
      JSON.stringify({ turns: [{ mode: 'exploration', write: writes(feature) }, ...implementation] }),
    );
    const project = await server.api<{ id: string }>('POST', '/projects', {
      name: `exec-${feature}`,
      repo_url: remote,
      settings: { concurrency_limit: 2 },
    });
    const { ticket, task } = await server.api<{ ticket: { id: string; ref: string }; task: { id: string } }>(
      'POST',
      '/tickets',
      { project_id: project.id, description: `Build the ${feature} diamond`, workflow_mode: 'spec_driven' },
    );
    await eventually(async () => {
      const t = await server.api<ApiTask>('GET', `/tasks/${task.id}`);
      if (t.status === 'failed') throw new Error(`the spec run failed: ${t.error}`);
      return t.status === 'completed';
    }, 'the spec run');
    const approved = await server.api<{ created: number; tasks: ApiTask[] }>(
      'POST',
      `/tickets/${ticket.id}/approve`,
    );
    expect(approved.created).toBe(7); // six spec tasks and the integration task
    const byLetter = (tasks: ApiTask[]) =>
      Object.fromEntries(
        Object.keys(DIAMOND).map((l) => [l, tasks.find((t) => t.spec_task_id === taskId(feature, l))!]),
      );
    return { remote, ticket, byLetter, detail: () => server.api<ApiTicket>('GET', `/tickets/${ticket.id}`) };
  }

  it('runs the diamond in dependency order, at most 2 at once, F alongside A, each task on its own branch', async () => {
    const run = await approvedDiamond('DIA', [{ mode: 'implementation', sleepMs: 1500, write: STEP }]);
    const done = await eventually(
      async () => {
        const d = await run.detail();
        if (d.status === 'blocked')
          throw new Error(`blocked: ${JSON.stringify(d.tasks.map((t) => t.error))}`);
        return d.status === 'done' ? d : null;
      },
      'the ticket to be done',
      300_000,
    );
    const tasks = run.byLetter(done.tasks);
    const at = (t: ApiTask, k: 'started_at' | 'finished_at') => Date.parse(t[k]!);
    // No task started before every task it depends on had completed.
    for (const [letter, deps] of Object.entries(DIAMOND))
      for (const dep of deps)
        expect(at(tasks[letter]!, 'started_at'), `${letter} after ${dep}`).toBeGreaterThanOrEqual(
          at(tasks[dep]!, 'finished_at'),
        );
    // At most 2 at once: at every start, count the tasks running then.
    const all = Object.values(tasks);
    for (const t of all) {
      const running = all.filter(
        (o) => at(o, 'started_at') <= at(t, 'started_at') && at(o, 'finished_at') > at(t, 'started_at'),
      );
      expect(running.length).toBeLessThanOrEqual(2);
    }
    // F has no dependencies: it ran alongside A.
    expect(at(tasks.F!, 'started_at')).toBeLessThan(at(tasks.A!, 'finished_at'));
    expect(at(tasks.A!, 'started_at')).toBeLessThan(at(tasks.F!, 'finished_at'));

    // Each task's branch, based on the spec branch, holds its own commit with the file it wrote.
    const specHead = git(run.remote, 'rev-parse', `omoi/${run.ticket.ref}`);
    for (const [letter, t] of Object.entries(tasks)) {
      const branch = `omoi/${run.ticket.ref}-${taskId('DIA', letter)}`;
      expect(t.branch).toBe(branch);
      expect(git(run.remote, 'log', '-1', '--format=%an', branch)).toBe('Omoi Worker');
      expect(() => git(run.remote, 'merge-base', '--is-ancestor', specHead, branch)).not.toThrow();
      expect(git(run.remote, 'show', `${branch}:step-${taskId('DIA', letter)}.txt`)).toBe(
        `done by ${taskId('DIA', letter)}`,
      );
    }
    // The ticket moved across the board by itself; the spec tasks follow their execution tasks.
    const board = await moves(run.ticket.id, 'done');
    expect(board).toContain('building');
    expect(board.at(-1)).toBe('done');
    const specTasks = done.spec_documents.filter((d) => d.kind === 'task');
    expect(specTasks.map((d) => d.frontmatter.status)).toEqual(specTasks.map(() => 'done'));
  }, 400_000);

  it('quick mode takes the same implementation path: own branch, committed change, the board moves to done', async () => {
    const remote = await createRemote(root, 'quick.git');
    await writeFile(
      script,
      JSON.stringify({ turns: [{ mode: 'implementation', write: { 'BADGE.md': 'Add a health badge\n' } }] }),
    );
    const project = await server.api<{ id: string }>('POST', '/projects', {
      name: 'exec-quick',
      repo_url: remote,
    });
    const { ticket } = await server.api<{ ticket: { id: string; ref: string } }>('POST', '/tickets', {
      project_id: project.id,
      description: 'Add a health badge to the README',
      workflow_mode: 'quick',
    });
    const board = await moves(ticket.id, 'done');
    expect(board).toEqual(['building', 'done']);
    const detail = await server.api<ApiTicket>('GET', `/tickets/${ticket.id}`);
    expect(detail.tasks.map((t) => [t.status, t.branch])).toEqual([['completed', `omoi/${ticket.ref}`]]);
    expect(git(remote, 'log', '-1', '--format=%an', `omoi/${ticket.ref}`)).toBe('Omoi Worker');
    expect(git(remote, 'show', `omoi/${ticket.ref}:BADGE.md`)).toContain('Add a health badge');
  }, 400_000);

  it('auto_approve skips the gate: the spec run alone takes the ticket to done', async () => {
    const remote = await createRemote(root, 'auto.git');
    const spec = dagSpec({ feature: 'AUT', tasks: { A: [], B: ['A'] } });
    await writeFile(
      script,
      JSON.stringify({
        turns: [
          { mode: 'exploration', write: Object.fromEntries(spec.map((f) => [f.path, String(f.content)])) },
          { mode: 'implementation', write: STEP },
        ],
      }),
    );
    const project = await server.api<{ id: string }>('POST', '/projects', {
      name: 'exec-auto',
      repo_url: remote,
      settings: { auto_approve: true },
    });
    const { ticket } = await server.api<{ ticket: { id: string; ref: string } }>('POST', '/tickets', {
      project_id: project.id,
      description: 'Build the AUT pair',
      workflow_mode: 'spec_driven',
    });
    // testing: the integration run merges the task branches after the last task
    expect(await moves(ticket.id, 'done')).toEqual(['analyzing', 'building', 'testing', 'done']);
    const detail = await server.api<ApiTicket & { approved_at: string | null }>(
      'GET',
      `/tickets/${ticket.id}`,
    );
    expect(detail.approved_at).not.toBeNull();
    const approved = detail.tasks.filter((t) => t.spec_task_id);
    expect(approved.map((t) => [t.spec_task_id, t.status]).sort()).toEqual([
      [taskId('AUT', 'A'), 'completed'],
      [taskId('AUT', 'B'), 'completed'],
    ]);
  }, 400_000);

  it('a failing task blocks exactly its dependants and the ticket; retrying it completes the rest', async () => {
    const run = await approvedDiamond('FLR', [
      { mode: 'implementation', match: `Spec task: ${taskId('FLR', 'B')}`, fail: 'step B broke' },
      { mode: 'implementation', write: STEP },
    ]);
    const stuck = await eventually(
      async () => {
        const d = await run.detail();
        const t = run.byLetter(d.tasks);
        const settled =
          t.B!.status === 'failed' && ['A', 'C', 'F'].every((l) => t[l]!.status === 'completed');
        return settled && d.status === 'blocked' ? d : null;
      },
      'B to fail and the others to settle',
      300_000,
    );
    const t = run.byLetter(stuck.tasks);
    expect(t.B!.error).toContain('step B broke');
    expect(t.D!.status).toBe('blocked');
    expect(t.E!.status).toBe('blocked');
    expect(t.D!.error).toContain(`${taskId('FLR', 'B')} failed`);
    expect(stuck.spec_documents.find((d) => d.spec_id === taskId('FLR', 'D'))?.frontmatter.status).toBe(
      'blocked',
    );

    // The fault is fixed (the script no longer fails B); a retry resumes the rest.
    await writeFile(script, JSON.stringify({ turns: [{ mode: 'implementation', write: STEP }] }));
    const retried = await server.api<ApiTask>('POST', `/tasks/${t.B!.id}/retry`);
    // Queued again and, with a free slot, claimed at once.
    expect(['pending', 'claimed', 'running', 'completed']).toContain(retried.status);
    const after = await run.detail();
    expect(run.byLetter(after.tasks).D!.status).not.toBe('blocked');
    expect(after.status).not.toBe('blocked');
    const done = await eventually(
      async () => {
        const d = await run.detail();
        return d.status === 'done' ? d : null;
      },
      'the ticket to be done after the retry',
      300_000,
    );
    expect(Object.values(run.byLetter(done.tasks)).map((x) => x.status)).toEqual(
      Object.keys(DIAMOND).map(() => 'completed'),
    );
    expect(await moves(run.ticket.id, 'done')).toEqual(
      expect.arrayContaining(['blocked', 'building', 'done']),
    );
  }, 400_000);
});
