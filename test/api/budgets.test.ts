// Budgets through the API on a real database: a ticket's spend (numbers worked by hand below), the
// forecast against what the caps leave, approval past the budget (409 unless confirmed), the check
// before a task starts, and the threshold event that fires once per scope.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { webhookEventOf } from '../../src/contracts/webhooks.js';
import { createBudgetService } from '../../src/core/budgets.js';
import { loadServerConfig } from '../../src/core/config.js';
import type { Db } from '../../src/db/client.js';
import { createQueue } from '../../src/queue/queue.js';
import { describeEachDatabase } from '../support/db.js';
import { exampleFiles, makeApi, TEST_REPO, type TestApi, uniqueName } from './support.js';

describeEachDatabase('budgets', (getDb) => {
  let api: TestApi;
  let db: Db;
  beforeAll(async () => {
    db = getDb();
    // A server-wide default the project's settings override key by key.
    api = await makeApi(db, { budget: { daily_tokens: 1_000_000, ticket_usd: 100 } });
  });
  afterAll(() => api?.close());

  async function call(taskId: string, input: number, output: number, cost: number | null, at = 'now()') {
    await db.query(
      `INSERT INTO model_usage (task_id, api, model, input_tokens, output_tokens, cost_usd, status, created_at)
       VALUES ($1, 'openai', 'gpt-fake', $2, $3, $4, 200, ${at})`,
      [taskId, input, output, cost],
    );
  }

  it('reports a ticket spend with its caps and what is left', async () => {
    const project = await api.services.projects.create({
      name: uniqueName('spend'),
      repo_url: TEST_REPO,
      settings: { budget: { ticket_usd: 2, ticket_tokens: 50_000, project_usd: 3 } },
    });
    const { ticket, task } = await api.services.tickets.create({
      project_id: project.id,
      description: 'Export reports',
      workflow_mode: 'quick',
    });
    // Two brokered calls: $0.25 + $0.50 (1000+500 and 2000+1500 tokens); one call with no price.
    await call(task.id, 1000, 500, 0.25);
    await call(task.id, 2000, 1500, 0.5);
    await call(task.id, 100, 0, null);
    // A finished task whose model calls went round the broker: its reported usage counts.
    await db.query(
      `INSERT INTO tasks (project_id, ticket_id, title, status, started_at, finished_at, result)
       VALUES ($1, $2, 'old run', 'completed', now(), now(), $3::jsonb)`,
      [project.id, ticket.id, { ok: true, usage: { input_tokens: 3000, output_tokens: 900 }, cost_usd: 0.4 }],
    );
    // Another ticket of the project spent $1 yesterday: the project cap sees it, the daily one not.
    const other = await api.services.tickets.create({
      project_id: project.id,
      description: 'Other',
      workflow_mode: 'quick',
    });
    await call(other.task.id, 10, 10, 1, "now() - interval '2 days'");

    const res = await api.request('GET', `/api/v1/tickets/${ticket.ref}/spend?project_id=${project.id}`);
    expect(res.status).toBe(200);
    // usd: 0.25 + 0.5 + 0 + 0.4 = 1.15; tokens: 1500 + 3500 + 100 + 3900 = 9000.
    expect(res.body).toEqual({
      ticket_id: ticket.id,
      usd: 1.15,
      tokens: 9000,
      caps: { ticket_usd: 2, ticket_tokens: 50_000, project_usd: 3, daily_tokens: 1_000_000 },
      // usd: min(ticket 2 - 1.15, project 3 - 2.15) = 0.85; tokens: min(50000 - 9000, 1e6 - 9000) = 41000.
      remaining: { usd: expect.closeTo(0.85, 9), tokens: 41_000 },
    });
    const missing = await api.request('GET', '/api/v1/tickets/TKT-999/spend');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
  });

  it('lists tickets each with the spend its own /spend answers (two projects, capped and not)', async () => {
    const capped = await api.services.projects.create({
      name: uniqueName('list-spend'),
      repo_url: TEST_REPO,
      settings: { budget: { ticket_usd: 1, project_usd: 1.5, project_tokens: 10_000 } },
    });
    const plain = await api.services.projects.create({ name: uniqueName('list-plain'), repo_url: TEST_REPO });
    const made = [];
    for (const [project, costs] of [
      [capped, [0.4, 0.7]],
      [capped, []],
      [plain, [0.05]],
    ] as const) {
      const { ticket, task } = await api.services.tickets.create({
        project_id: project.id,
        description: 'Spend some',
        workflow_mode: 'quick',
      });
      for (const cost of costs) await call(task.id, 1000, 200, cost);
      made.push(ticket);
    }
    const listed = new Map<string, Record<string, unknown>>();
    for (const project of [capped, plain]) {
      const res = await api.request('GET', `/api/v1/tickets?project_id=${project.id}`);
      expect(res.status).toBe(200);
      for (const item of res.body.tickets) listed.set(item.id, item.spend);
    }
    for (const ticket of made) {
      const own = await api.request('GET', `/api/v1/tickets/${ticket.id}/spend`);
      expect(listed.get(ticket.id)).toEqual(own.body);
    }
    // Worked by hand: the first ticket spent $1.10 of its $1 cap; the project $1.10 of $1.50 and
    // 2400 of 10,000 tokens, so its second ticket has $0.40 and 7600 tokens left.
    expect(listed.get(made[0]!.id)).toMatchObject({
      usd: 1.1,
      tokens: 2400,
      remaining: { usd: 0, tokens: 7600 },
    });
    expect(listed.get(made[1]!.id)).toMatchObject({ usd: 0, tokens: 0, remaining: { tokens: 7600 } });
    expect((listed.get(made[1]!.id)!.remaining as { usd: number }).usd).toBeCloseTo(0.4, 9);
    // The server's defaults cap the uncapped project: ticket_usd 100 and daily_tokens 1,000,000.
    expect(listed.get(made[2]!.id)).toMatchObject({
      usd: 0.05,
      tokens: 1200,
      remaining: { tokens: 998_800 },
    });
  });

  it('approving past the budget answers 409 BUDGET_CONFIRMATION_REQUIRED, and goes ahead when confirmed', async () => {
    // The example spec has several tasks; at the default figures they cost well over $0.10.
    const project = await api.services.projects.create({
      name: uniqueName('approve'),
      repo_url: TEST_REPO,
      settings: { budget: { ticket_usd: 0.1 } },
    });
    const t = await api.request('POST', '/api/v1/tickets', {
      project_id: project.id,
      description: 'Webhooks',
      workflow_mode: 'spec_driven',
    });
    const ticketId = t.body.ticket.id;
    const sync = await api.request('POST', `/api/v1/projects/${project.id}/specs/sync`, {
      documents: await exampleFiles(),
      ticket_id: ticketId,
    });
    expect(sync.status).toBe(200);
    await db.query(`UPDATE tasks SET status = 'completed' WHERE id = $1`, [t.body.task.id]);

    const forecast = await api.request('GET', `/api/v1/tickets/${ticketId}/forecast`);
    expect(forecast.status).toBe(200);
    expect(forecast.body.total.cost_usd).toBeGreaterThan(0.1);
    expect(forecast.body.budget).toEqual({ remaining_usd: 0.1, remaining_tokens: 1_000_000, over: true });

    const refused = await api.request('POST', `/api/v1/tickets/${ticketId}/approve`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('BUDGET_CONFIRMATION_REQUIRED');
    expect(refused.body.error.message).toContain('exceeds the remaining budget ($0.1');
    const stillWaiting = await api.request('GET', `/api/v1/tickets/${ticketId}`);
    const waiting = stillWaiting.body.ticket ?? stillWaiting.body;
    expect(waiting.approved_at).toBeNull();
    expect(waiting.status).not.toBe('building');
    const notConfirmed = await api.request('POST', `/api/v1/tickets/${ticketId}/approve`, {
      confirm_over_budget: false,
    });
    expect(notConfirmed.status).toBe(409);
    const unknownField = await api.request('POST', `/api/v1/tickets/${ticketId}/approve`, { confirm: true });
    expect(unknownField.status).toBe(400);

    const approved = await api.request('POST', `/api/v1/tickets/${ticketId}/approve`, {
      confirm_over_budget: true,
    });
    expect(approved.status).toBe(200);
    expect(approved.body.ticket).toMatchObject({ status: 'building' });
    // Approved already: idempotent, no second confirmation asked.
    const again = await api.request('POST', `/api/v1/tickets/${ticketId}/approve`);
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(0);
  });

  it('refuses to start a task past a cap, and emits the threshold event once per scope', async () => {
    const project = await api.services.projects.create({
      name: uniqueName('start'),
      repo_url: TEST_REPO,
      settings: { budget: { task_tokens: 10_000, ticket_tokens: 1000, soft_threshold: 0.5 } },
    });
    const { ticket, task } = await api.services.tickets.create({
      project_id: project.id,
      description: 'Cap me',
      workflow_mode: 'quick',
    });
    const budgets = createBudgetService(db, {
      defaults: api.config.budget ?? {},
      emit: (event) => api.services.events.append(event),
    });
    const fresh = await budgets.beforeStart(task);
    expect(fresh).toEqual({ ok: true, budget: { usd: 100, tokens: 1000, prices: {} } });

    await call(task.id, 400, 200, 0.01); // 600 of 1000 ticket tokens: past the 0.5 threshold
    // Past the soft threshold the person is asked before the run starts (start.ts parks the task).
    const key = `ticket:${ticket.id}:tokens`;
    const midway = await budgets.beforeStart(task);
    expect(midway).toEqual({
      ok: false,
      ask: {
        key,
        question:
          'The ticket budget is 60% spent (600 tokens of 1000 tokens). Start this task anyway? Answer "continue" to go on, "stop" to cancel it.',
      },
    });
    await budgets.beforeStart(task); // a second look does not fire the event again
    // A claimed task parks on the budget question; "continue" lets it (and every later run) start.
    // (the suite's other tickets are pending too: claimed until this one is)
    const queue = createQueue(db);
    let claimed = await queue.claim('budget-claimer');
    while (claimed && claimed.id !== task.id) claimed = await queue.claim('budget-claimer');
    expect(claimed?.id).toBe(task.id);
    const asked = await api.services.questions.ask(
      task.id,
      { question: (midway as { ask: { question: string } }).ask.question, options: ['Continue', 'Stop'] },
      'budget',
      key,
    );
    expect(asked).toMatchObject({ kind: 'budget', status: 'open' });
    await api.services.questions.answer(task.id, 'Continue', 'ana');
    expect((await api.services.tasks.get(task.id)).status).toBe('pending');
    expect(await budgets.beforeStart(task)).toMatchObject({ ok: true, budget: { tokens: 400 } });
    await call(task.id, 300, 200, 0.01); // 1100 of 1000
    const over = await budgets.beforeStart(task);
    expect(over).toEqual({ ok: false, reason: 'budget reached: ticket_tokens (1100 tokens of 1000 tokens)' });

    const events = await db.query<{ data: Record<string, unknown>; ticket_id: string | null }>(
      `SELECT data, ticket_id::text AS ticket_id FROM events WHERE type = 'budget.threshold' AND project_id = $1 ORDER BY id`,
      [project.id],
    );
    expect(events.map((e) => e.data)).toEqual([
      {
        key: `ticket:${ticket.id}:tokens`,
        scope: 'ticket',
        unit: 'tokens',
        spent: 600,
        cap: 1000,
        threshold: 0.5,
      },
    ]);
    expect(events[0]!.ticket_id).toBe(ticket.id);
    // Webhooks hear it under the same name.
    expect(webhookEventOf({ type: 'budget.threshold', data: events[0]!.data } as never)).toBe(
      'budget.threshold',
    );
  });

  it('refuses bad budget settings with a 400 naming the field, and bad defaults at start', async () => {
    const bad = await api.request('POST', '/api/v1/projects', {
      name: uniqueName('bad'),
      repo_url: TEST_REPO,
      settings: { budget: { ticket_usd: -1, soft_threshold: 2 } },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toContain('ticket_usd');
    expect(JSON.stringify(bad.body.error)).toContain('soft_threshold');
    const unknown = await api.request('POST', '/api/v1/projects', {
      name: uniqueName('bad'),
      repo_url: TEST_REPO,
      settings: { budget: { weekly_usd: 1 } },
    });
    expect(unknown.status).toBe(400);
    expect(() => loadServerConfig({ OMOI_BUDGET_DAILY_USD: 'lots' })).toThrow(/OMOI_BUDGET_DAILY_USD/);
    expect(() => loadServerConfig({ OMOI_MODEL_PRICES: '{"m": {"input": 1}}' })).toThrow(/OMOI_MODEL_PRICES/);
    expect(
      loadServerConfig({ OMOI_BUDGET_TASK_TOKENS: '5000', OMOI_BUDGET_SOFT_THRESHOLD: '0.5' }).budget,
    ).toEqual({
      task_tokens: 5000,
      soft_threshold: 0.5,
    });
  });
});
