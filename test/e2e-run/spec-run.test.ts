// The Spec Driven run end to end: a real `omoi start` (PGlite, and PostgreSQL when
// OMOI_TEST_DATABASE_URL is set), a temporary bare repository as the project's remote, real
// workers in the local sandbox, the offline runtime and a scripted test runtime.
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validateSpecDir } from '../../src/spec-format/index.js';
import {
  createRemote,
  ensureBuilt,
  eventually,
  freshPostgres,
  git,
  type OmoiEvent,
  type OmoiServer,
  ROOT,
  startOmoi,
  ticketEvents,
} from './support/harness.js';

// Real processes on a loaded machine: generous limits, never timing assertions.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const SERVER_SECRET = 'server-secret-key-not-for-workers';
const databases = ['pglite', ...(process.env.OMOI_TEST_DATABASE_URL ? ['postgres'] : [])];

interface Created {
  ticket: { id: string; ref: string };
  task: { id: string };
}

/** Lifecycle events in order, without the log lines and agent chatter. */
function lifecycle(events: OmoiEvent[], taskId: string): string[] {
  return events
    .filter(
      (e) => e.task_id === taskId && !['sandbox.log', 'agent.message', 'agent.tool_use'].includes(e.type),
    )
    .map((e) => e.type);
}

const finished = (taskId: string) => (events: OmoiEvent[]) =>
  events.some((e) => e.task_id === taskId && (e.type === 'task.completed' || e.type === 'task.failed'));

beforeAll(() => ensureBuilt(), 600_000);

describe.each(databases)('spec run end to end on %s', (database) => {
  let root: string;
  let remote: string;
  let script: string;
  let databaseUrl: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  let server: OmoiServer;
  let projectId: string;

  const env = (extra: Record<string, string> = {}) => ({
    OMOI_API_KEY: SERVER_SECRET,
    OMOI_LEASE_MS: '3000',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...extra,
  });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'omoi-e2e-run-'));
    // The scripted runtime's script is read inside the sandbox, whose user is not this one.
    await chmod(root, 0o755);
    remote = await createRemote(root);
    script = join(root, 'script.json');
    if (database === 'postgres') {
      const pgdb = await freshPostgres();
      databaseUrl = pgdb?.url;
      dropDatabase = pgdb?.drop;
    }
    server = await startOmoi({ dataDir: join(root, 'data'), env: env() });
    const project = await server.api<{ id: string }>('POST', '/projects', { name: 'demo', repo_url: remote });
    projectId = project.id;
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await dropDatabase?.();
    await rm(root, { recursive: true, force: true });
  });

  async function ticket(description: string, title?: string): Promise<Created> {
    return server.api<Created>('POST', '/tickets', {
      project_id: projectId,
      description,
      workflow_mode: 'spec_driven',
      ...(title ? { title } : {}),
    });
  }

  /** Restarts the server with the scripted test runtime, unless it already runs it (tests also run alone, -t). */
  let scripted = false;
  async function switchToScriptedRuntime(): Promise<void> {
    if (scripted) return;
    await server.stop();
    server = await startOmoi({
      dataDir: join(root, 'data'),
      env: env({ AGENT_RUNTIME: 'scripted', OMOI_TEST_RUNTIME_SCRIPT: script }),
    });
    scripted = true;
  }

  it('turns a spec_driven ticket into pushed, valid, synced specs, with the events in order', async () => {
    const { ticket: t, task } = await ticket(
      'Users can export their reports as CSV files. Show a clear error when a report is empty.',
      'Export reports',
    );
    const events = await ticketEvents(server, t.id, finished(task.id));
    const order = lifecycle(events, task.id).filter((type) => type !== 'task.created');
    expect(order).toEqual([
      'task.claimed',
      'sandbox.spawned',
      'worker.started',
      'skill.injected',
      'spec.validation',
      'git.pushed',
      'spec.synced',
      'task.completed',
    ]);
    const spawned = events.find((e) => e.type === 'sandbox.spawned')!;
    expect(spawned.data).toMatchObject({
      message: 'Spec skill enforcement enabled',
      require_spec_skill: true,
    });
    expect(events.find((e) => e.type === 'worker.started')?.data).toMatchObject({
      runtime_label: 'offline (no model)',
    });
    expect(events.find((e) => e.type === 'spec.validation')?.data).toMatchObject({
      passed: true,
      attempt: 1,
    });
    expect(events.some((e) => e.type === 'sandbox.log' && e.data.text === 'REQUIRE_SPEC_SKILL=true')).toBe(
      true,
    );

    // The worker's environment: the contract, never the database URL or the server's key.
    const envLine = String(events.find((e) => String(e.data.text).startsWith('environment: '))?.data.text);
    const names = envLine.slice('environment: '.length).split(' ');
    expect(names).toEqual(
      expect.arrayContaining(['OMOIOS_API_URL', 'OMOIOS_API_KEY', 'TASK_ID', 'WORK_BRANCH']),
    );
    expect(names).not.toContain('DATABASE_URL');
    expect(names).not.toContain('OMOI_API_KEY');
    expect(names).not.toContain('OMOI_TEST_DATABASE_URL');

    // A real commit on omoi/<ref> in the remote, by the worker, holding a valid .omoi_os/.
    const branch = `omoi/${t.ref}`;
    const pushed = events.find((e) => e.type === 'git.pushed')!;
    expect(pushed.data).toMatchObject({ branch, commit: git(remote, 'rev-parse', branch) });
    expect(git(remote, 'log', '-1', '--format=%an <%ae>|%s', branch)).toMatch(
      new RegExp(`^Omoi Worker <worker@omoi.local>\\|docs\\(spec\\): ${t.ref} `),
    );
    const checkout = join(root, `check-${t.ref}`);
    git(root, 'clone', '--quiet', '--branch', branch, remote, checkout);
    const report = await validateSpecDir(checkout);
    expect(report.issues.filter((i) => i.level === 'error')).toEqual([]);
    expect(report.summary.files).toBeGreaterThanOrEqual(6);

    // The documents are in the API, and the task is completed.
    const synced = events.find((e) => e.type === 'spec.synced')!;
    expect(Number(synced.data.created)).toBe(report.summary.files);
    const specs = await server.api<{ documents: { spec_id: string }[] }>(
      'GET',
      `/projects/${projectId}/specs`,
    );
    expect(specs.documents.length).toBeGreaterThanOrEqual(report.summary.files);
    const detail = await server.api<{ status: string }>('GET', `/tasks/${task.id}`);
    expect(detail.status).toBe('completed');
  });

  it('omoi project add + omoi ticket create --wait show the progress and end with pushed specs', async () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'bin', 'omoi.js'), ...args], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', OMOIOS_API_URL: server.url },
        timeout: 180_000,
      });
    const added = cli('project', 'add', remote, '--name', 'cli-demo');
    expect(added.status, added.stderr).toBe(0);
    const run = cli(
      'ticket',
      'create',
      'Let users pin favourite dashboards.',
      '--project',
      'cli-demo',
      '--mode',
      'spec_driven',
      '--wait',
    );
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    const step = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    const order = [
      /claimed/,
      /Spec skill enforcement enabled/,
      /skill spec-driven-dev injected/,
      /Spec validation PASSED/,
      /pushed omoi\/TKT-\d+/,
      /specs synced: \d+ created/,
      /completed$/,
    ].map(step);
    expect(
      order.every((i) => i >= 0),
      run.stdout,
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('feeds a failed validation back to the agent: FAILED on attempt 1, PASSED on attempt 2', async () => {
    await writeFile(
      script,
      JSON.stringify({
        turns: [
          { write: { '.omoi_os/tasks/TSK-BROKEN-001.md': '---\nid: TSK-BROKEN-001\n---\nmissing fields\n' } },
          { remove: ['.omoi_os/tasks/TSK-BROKEN-001.md'], offline: true },
        ],
      }),
    );
    await switchToScriptedRuntime();
    const { ticket: t, task } = await ticket('Add a dark mode toggle to the settings page.');
    const events = await ticketEvents(server, t.id, finished(task.id));
    const validations = events.filter((e) => e.type === 'spec.validation').map((e) => e.data);
    expect(validations.map((v) => [v.passed, v.attempt])).toEqual([
      [false, 1],
      [true, 2],
    ]);
    expect(String(validations[0]?.message)).toContain('Spec validation FAILED');
    expect(String(validations[1]?.message)).toContain('Spec validation PASSED');
    expect(lifecycle(events, task.id).slice(-3)).toEqual(['git.pushed', 'spec.synced', 'task.completed']);
  });

  it('gives up after three failed validations: task failed with the report, nothing pushed or synced', async () => {
    await switchToScriptedRuntime();
    await writeFile(
      script,
      JSON.stringify({ turns: [{ write: { '.omoi_os/tasks/TSK-NOPE.md': 'not a spec' } }] }),
    );
    const { ticket: t, task } = await ticket('Add an audit log.');
    const events = await ticketEvents(server, t.id, finished(task.id));
    expect(events.filter((e) => e.type === 'spec.validation').map((e) => e.data.passed)).toEqual([
      false,
      false,
      false,
    ]);
    const failed = events.find((e) => e.type === 'task.failed')!;
    expect(String(failed.data.error)).toMatch(/Spec validation FAILED after 3 attempts/);
    expect(events.some((e) => e.type === 'git.pushed' || e.type === 'spec.synced')).toBe(false);
    expect(() => git(remote, 'rev-parse', '--verify', `omoi/${t.ref}`)).toThrow();
    expect((await server.api<{ status: string }>('GET', `/tasks/${task.id}`)).status).toBe('failed');
  });

  it('runs a task again when its worker is killed with SIGKILL, completing and syncing it once', async () => {
    await switchToScriptedRuntime();
    await writeFile(script, JSON.stringify({ turns: [{ sleepMs: 120_000 }] }));
    const { ticket: t, task } = await ticket('Send a weekly summary email.');
    const started = await eventually(async () => {
      const events = await ticketEvents(server, t.id, (es) =>
        es.some((e) => e.type === 'agent.message' && String(e.data.text).includes('sleeping')),
      );
      return events.find((e) => /worker process started \(pid \d+\)/.test(String(e.data.text)));
    }, 'the worker to start sleeping');
    await writeFile(script, JSON.stringify({ turns: [{ offline: true }] }));
    process.kill(Number(/pid (\d+)/.exec(String(started.data.text))?.[1]), 'SIGKILL');
    const events = await ticketEvents(server, t.id, (es) => es.some((e) => e.type === 'task.completed'));
    const order = lifecycle(events, task.id);
    expect(order.filter((type) => type === 'task.claimed')).toHaveLength(2);
    expect(order.filter((type) => type === 'task.retrying')).toHaveLength(1);
    expect(order.filter((type) => type === 'task.completed')).toHaveLength(1);
    expect(order.filter((type) => type === 'spec.synced')).toHaveLength(1);
  });

  it('finishes the run after the whole server is killed with SIGKILL and restarted on the same data', async () => {
    await switchToScriptedRuntime();
    await writeFile(script, JSON.stringify({ turns: [{ sleepMs: 120_000 }] }));
    const { ticket: t, task } = await ticket('Let admins invite users by email.');
    await ticketEvents(server, t.id, (es) =>
      es.some((e) => e.type === 'agent.message' && String(e.data.text).includes('sleeping')),
    );
    await server.stop(true);
    await writeFile(script, JSON.stringify({ turns: [{ offline: true }] }));
    server = await startOmoi({
      dataDir: join(root, 'data'),
      env: env({ AGENT_RUNTIME: 'scripted', OMOI_TEST_RUNTIME_SCRIPT: script }),
    });
    const events = await ticketEvents(server, t.id, (es) => es.some((e) => e.type === 'task.completed'));
    expect(lifecycle(events, task.id).filter((type) => type === 'task.completed')).toHaveLength(1);
    const detail = await server.api<{ status: string; claimed_by: string | null }>(
      'GET',
      `/tasks/${task.id}`,
    );
    expect(detail.status).toBe('completed');
    const stuck = await server.api<{ tasks: { status: string }[] }>('GET', `/tasks?status=claimed`);
    expect(stuck.tasks).toEqual([]);
    // The killed run's workspace was swept at the restart, the new one removed when it ended. Only
    // with the embedded database: on PostgreSQL other servers may share the machine's sandboxes.
    if (database === 'pglite')
      await eventually(
        async () => (await readdir(join(root, 'data', 'workspaces'))).length === 0,
        'no workspace left in the data folder',
      );
  });

  it('fails clearly and once for an unreachable repository', async () => {
    // Added while it existed (the API checks a path is a repository), gone by the time it runs.
    const gone = join(root, 'does-not-exist.git');
    spawnSync('git', ['init', '--quiet', '--bare', gone]);
    const other = await server.api<{ id: string }>('POST', '/projects', { name: 'gone', repo_url: gone });
    await rm(gone, { recursive: true, force: true });
    const created = await server.api<Created>('POST', '/tickets', {
      project_id: other.id,
      description: 'Anything.',
      workflow_mode: 'spec_driven',
    });
    const events = await ticketEvents(server, created.ticket.id, finished(created.task.id));
    const failed = events.find((e) => e.type === 'task.failed')!;
    // The server fetches the remote into its mirror before a sandbox starts (the git broker).
    expect(String(failed.data.error)).toMatch(
      /could not be fetched: git fetch failed: .*does not appear to be a git repository/,
    );
    expect(events.filter((e) => e.type === 'task.claimed')).toHaveLength(1);
    const detail = await server.api<{ status: string; attempts: number }>('GET', `/tasks/${created.task.id}`);
    expect(detail).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('runs 50 spec_driven tickets at once with a project limit of 4: all complete, never more than 4 at a time, none twice', async () => {
    await server.stop();
    await writeFile(script, JSON.stringify({ turns: [{ offline: true }] }));
    server = await startOmoi({
      dataDir: join(root, 'data'),
      env: env({ AGENT_RUNTIME: 'scripted', OMOI_TEST_RUNTIME_SCRIPT: script, OMOI_MAX_CONCURRENCY: '8' }),
    });
    const limited = await server.api<{ id: string }>('POST', '/projects', {
      name: 'limited',
      repo_url: remote,
      settings: { concurrency_limit: 4 },
    });
    const created = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        server.api<Created>('POST', '/tickets', {
          project_id: limited.id,
          description: `Ticket ${i}: users can star reports.`,
          workflow_mode: 'spec_driven',
        }),
      ),
    );
    let maxActive = 0;
    const statuses = await eventually(
      async () => {
        // One list call is one query, so one consistent snapshot of the database's own state (event
        // timestamps cannot order a slot's release against the next claim: the completion event
        // is written after the slot is free).
        const ids = new Set(created.map((c) => c.task.id));
        const { tasks: all } = await server.api<{ tasks: { id: string; status: string }[] }>('GET', '/tasks');
        const tasks = all.filter((t) => ids.has(t.id));
        if (tasks.length !== ids.size) return null;
        maxActive = Math.max(
          maxActive,
          tasks.filter((t) => ['claimed', 'running'].includes(t.status)).length,
        );
        const done = tasks.every((t) => t.status === 'completed' || t.status === 'failed');
        return done ? tasks.map((t) => t.status) : null;
      },
      '50 tasks to finish',
      600_000,
    );
    expect(statuses.filter((status) => status !== 'completed')).toEqual([]);
    expect(maxActive).toBeGreaterThan(0);
    expect(maxActive).toBeLessThanOrEqual(4);
    for (const c of created) {
      const types = lifecycle(await ticketEvents(server, c.ticket.id, finished(c.task.id)), c.task.id);
      expect(types.filter((t) => t === 'task.claimed')).toHaveLength(1);
      expect(types.filter((t) => t === 'task.completed')).toHaveLength(1);
    }
  }, 900_000);
});
