// GET /tickets/:id/forecast on a worked example whose numbers are computed by hand below.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_SIZE_FIGURES } from '../../src/core/forecast.js';
import type { Db } from '../../src/db/client.js';
import { describeEachDatabase } from '../support/db.js';
import { makeApi, TEST_REPO, type TestApi, uniqueName } from './support.js';

describeEachDatabase('ticket forecast', (getDb) => {
  let api: TestApi;
  let db: Db;
  beforeAll(async () => {
    db = getDb();
    api = await makeApi(db);
  });
  afterAll(() => api?.close());

  async function specTask(
    projectId: string,
    ticketId: string,
    specId: string,
    estimate: string | null,
    dependsOn: string[] = [],
  ) {
    const frontmatter = {
      id: specId,
      title: `Task ${specId}`,
      status: 'pending',
      parent_ticket: 'TKT-001',
      ...(estimate ? { estimate } : {}),
      dependencies: { depends_on: dependsOn },
    };
    await db.query(
      `INSERT INTO spec_documents (project_id, spec_id, kind, path, ticket_id, title, frontmatter, content_hash)
       VALUES ($1, $2, 'task', $3, $4, $5, $6::jsonb, 'h')`,
      [projectId, specId, `tasks/${specId}.md`, ticketId, frontmatter.title, frontmatter],
    );
  }

  /** A finished run of a spec task, `minutes` long, with its model calls or its reported usage. */
  async function pastRun(
    projectId: string,
    ticketId: string,
    specId: string,
    run: {
      minutes: number;
      status?: string;
      calls?: Array<[input: number, output: number, cost: number]>;
      result?: unknown;
    },
  ) {
    const rows = await db.query<{ id: string }>(
      `INSERT INTO tasks (project_id, ticket_id, title, spec_task_id, status, started_at, finished_at, result)
       VALUES ($1, $2, $3, $3, $4, now() - make_interval(mins => $5), now(), $6::jsonb) RETURNING id::text AS id`,
      [projectId, ticketId, specId, run.status ?? 'completed', run.minutes, run.result ?? { ok: true }],
    );
    for (const [input, output, cost] of run.calls ?? [])
      await db.query(
        `INSERT INTO model_usage (task_id, api, model, input_tokens, output_tokens, cost_usd, status)
         VALUES ($1, 'anthropic', 'm', $2, $3, $4, 200)`,
        [rows[0]!.id, input, output, cost],
      );
  }

  it('costs each task at its size from past runs (or the default) and times the critical path', async () => {
    const project = await api.services.projects.create({ name: uniqueName('fc'), repo_url: TEST_REPO });
    const other = await api.services.projects.create({ name: uniqueName('fc-other'), repo_url: TEST_REPO });
    const past = await api.services.tickets.create({
      project_id: project.id,
      description: 'An earlier feature',
      workflow_mode: 'spec_driven',
    });
    // History. S: two runs, 10 and 20 minutes, $0.10 (4000 tokens) and $0.30 (8000 tokens, two calls).
    await specTask(project.id, past.ticket.id, 'TSK-P01', 'S');
    await specTask(project.id, past.ticket.id, 'TSK-P02', '3h'); // 3h is S too
    await pastRun(project.id, past.ticket.id, 'TSK-P01', { minutes: 10, calls: [[1000, 3000, 0.1]] });
    await pastRun(project.id, past.ticket.id, 'TSK-P02', {
      minutes: 20,
      calls: [
        [1000, 2000, 0.1],
        [1000, 4000, 0.2],
      ],
    });
    // A failed S run does not count.
    await specTask(project.id, past.ticket.id, 'TSK-P03', 'S');
    await pastRun(project.id, past.ticket.id, 'TSK-P03', {
      minutes: 99,
      status: 'failed',
      calls: [[1, 1, 50]],
    });
    // M: one run of 30 minutes that went round the broker: the worker's reported usage counts.
    await specTask(project.id, past.ticket.id, 'TSK-P04', 'M');
    await pastRun(project.id, past.ticket.id, 'TSK-P04', {
      minutes: 30,
      result: { ok: true, usage: { input_tokens: 10_000, output_tokens: 20_000 }, cost_usd: 0.9 },
    });
    // Another project's S run does not count.
    const elsewhere = await api.services.tickets.create({
      project_id: other.id,
      description: 'Elsewhere',
      workflow_mode: 'spec_driven',
    });
    await specTask(other.id, elsewhere.ticket.id, 'TSK-P01', 'S');
    await pastRun(other.id, elsewhere.ticket.id, 'TSK-P01', { minutes: 500, calls: [[1, 1, 40]] });

    // The ticket to approve: 001 (S) -> 002 (M) and 003 (2d = L) -> 004 (XS); 005 has no estimate (M).
    const { ticket } = await api.services.tickets.create({
      project_id: project.id,
      description: 'Export reports',
      workflow_mode: 'spec_driven',
    });
    await specTask(project.id, ticket.id, 'TSK-001', 'S');
    await specTask(project.id, ticket.id, 'TSK-002', 'M', ['TSK-001']);
    await specTask(project.id, ticket.id, 'TSK-003', '2d', ['TSK-001']);
    await specTask(project.id, ticket.id, 'TSK-004', 'XS', ['TSK-002', 'TSK-003']);
    await specTask(project.id, ticket.id, 'TSK-005', null, ['TSK-P01']); // an approved task elsewhere

    const res = await api.request('GET', `/api/v1/tickets/${ticket.ref}/forecast?project_id=${project.id}`);
    expect(res.status).toBe(200);
    const f = res.body;

    // By hand: S = mean of ($0.10, $0.30) = $0.20, (4000 + 8000) / 2 = 6000 tokens, (10 + 20) / 2 = 15 min.
    //          M = $0.90, 30000 tokens, 30 min (one sample). L and XS: the defaults.
    const L = DEFAULT_SIZE_FIGURES.L;
    const XS = DEFAULT_SIZE_FIGURES.XS;
    expect(L).toEqual({ cost_usd: 1, tokens: 400_000, minutes: 45 });
    expect(XS).toEqual({ cost_usd: 0.05, tokens: 20_000, minutes: 5 });
    expect(f.tasks.map((t: { spec_task_id: string; size: string }) => [t.spec_task_id, t.size])).toEqual([
      ['TSK-001', 'S'],
      ['TSK-002', 'M'],
      ['TSK-003', 'L'],
      ['TSK-004', 'XS'],
      ['TSK-005', 'M'],
    ]);
    const bySize = Object.fromEntries(f.basis.map((b: { size: string }) => [b.size, b]));
    expect(bySize.S).toMatchObject({ basis: 'history', samples: 2, tokens: 6000, minutes: 15 });
    expect(bySize.S.cost_usd).toBeCloseTo(0.2, 6);
    expect(bySize.M).toMatchObject({ basis: 'history', samples: 1, tokens: 30_000, minutes: 30 });
    expect(bySize.M.cost_usd).toBeCloseTo(0.9, 6);
    expect(bySize.L).toMatchObject({ basis: 'default', samples: 0, tokens: 400_000, minutes: 45 });
    expect(bySize.XS).toMatchObject({ basis: 'default', samples: 0 });
    expect(bySize.XL).toBeUndefined();

    // Total: 0.20 + 0.90 + 1.00 + 0.05 + 0.90 = $3.05; 6000 + 30000 + 400000 + 20000 + 30000 = 486000 tokens.
    expect(f.total.cost_usd).toBeCloseTo(3.05, 6);
    expect(f.total.tokens).toBe(486_000);
    // Critical path: 001 (15) then the longer of 002 (30) and 003 (45), then 004 (5) = 65 minutes;
    // 005 (30 min) waits only for an approved task elsewhere and runs alongside.
    expect(f.critical_path).toEqual({ minutes: 65, tasks: ['TSK-001', 'TSK-003', 'TSK-004'] });
    expect(f.tasks[4].depends_on).toEqual([]);
  });

  it('answers for a ticket with no spec tasks, and 404 for an unknown ticket', async () => {
    const project = await api.services.projects.create({ name: uniqueName('fc'), repo_url: TEST_REPO });
    const { ticket } = await api.services.tickets.create({
      project_id: project.id,
      description: 'Quick fix',
      workflow_mode: 'quick',
    });
    const res = await api.request('GET', `/api/v1/tickets/${ticket.id}/forecast`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      tasks: [],
      total: { cost_usd: 0, tokens: 0 },
      critical_path: { minutes: 0 },
    });
    expect(res.body.note).toContain('no synced spec tasks');
    const missing = await api.request('GET', '/api/v1/tickets/00000000-0000-4000-8000-000000000000/forecast');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
  });
});
