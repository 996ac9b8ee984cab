// Budgets: caps in USD and tokens per task, per ticket, per project and per day (UTC), from a
// project's settings.budget over the server's OMOI_BUDGET_* defaults. Spend is what the model broker
// recorded per call (`model_usage`), else, for a finished task whose calls did not go through the
// broker, what its worker reported. Three places enforce the caps: the orchestrator before a task
// starts (`beforeStart`), the runtime in the sandbox (it gets the remaining amount as BUDGET_USD /
// BUDGET_TOKENS), and the model broker before each call (`reachedFor`), which agent code cannot bypass.
import { AppError } from '../base/errors.js';
import type { BudgetSettings, Forecast, TicketSpend } from '../contracts/api.js';
import type { AppendEvent } from '../contracts/events.js';
import { budgetReachedMessage, costOf, type PriceTable, priceOf } from '../contracts/prices.js';
import type { RunBudget } from '../contracts/worker-env.js';
import type { Queryable } from '../db/client.js';

export const BUDGET_SCOPES = ['task', 'ticket', 'project', 'daily'] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];
export type BudgetUnit = 'usd' | 'tokens';
export interface Spent {
  usd: number;
  tokens: number;
}

/** The share of a cap at which `budget.threshold` fires when settings say nothing. */
export const DEFAULT_SOFT_THRESHOLD = 0.8;

export interface BudgetOptions {
  /** OMOI_BUDGET_* (a project's settings override each key). */
  defaults?: BudgetSettings;
  /** OMOI_MODEL_PRICES (a project's settings.prices override each model). */
  prices?: PriceTable;
  /** Appends `budget.threshold`; without it no threshold event is emitted. */
  emit?: (event: AppendEvent) => Promise<unknown>;
}

interface TaskRef {
  id: string;
  project_id: string;
  ticket_id: string | null;
}

/** Where a task stands against every cap that applies to it. */
export interface TaskBudget {
  caps: BudgetSettings;
  prices: PriceTable;
  spent: Partial<Record<BudgetScope, Spent>>;
  /** The least left under any cap (never below 0); null: no cap in that unit. */
  remaining: { usd: number | null; tokens: number | null };
  /** `budget reached: <cap> (<spent> of <cap>)` for the first cap used up, else null. */
  reached: string | null;
}

const EPOCH = '1970-01-01T00:00:00Z';
const reportedUsd = `CASE WHEN jsonb_typeof(t.result->'cost_usd') = 'number' THEN (t.result->>'cost_usd')::float8 ELSE 0 END`;
const reportedTokens = `(CASE WHEN jsonb_typeof(t.result->'usage'->'input_tokens') = 'number' THEN (t.result->'usage'->>'input_tokens')::float8 ELSE 0 END
  + CASE WHEN jsonb_typeof(t.result->'usage'->'output_tokens') = 'number' THEN (t.result->'usage'->>'output_tokens')::float8 ELSE 0 END)`;

/**
 * Spend of the tasks `where` selects ($1), counting calls and finished runs since $2; one row per
 * `groupBy` value when given (selected as `key`), else one row.
 */
const spendSql = (where: string, groupBy?: string) => `
  SELECT ${groupBy ? `${groupBy} AS key, ` : ''}coalesce(sum(CASE WHEN u.calls > 0 THEN u.usd WHEN t.finished_at >= $2::timestamptz THEN ${reportedUsd} ELSE 0 END), 0)::float8 AS usd,
         coalesce(sum(CASE WHEN u.calls > 0 THEN u.tokens WHEN t.finished_at >= $2::timestamptz THEN ${reportedTokens} ELSE 0 END), 0)::float8 AS tokens
    FROM tasks t
    LEFT JOIN LATERAL (
      SELECT count(*) AS calls,
             coalesce(sum(m.cost_usd) FILTER (WHERE m.created_at >= $2::timestamptz), 0)::float8 AS usd,
             coalesce(sum(m.input_tokens + m.output_tokens) FILTER (WHERE m.created_at >= $2::timestamptz), 0)::float8 AS tokens
        FROM model_usage m WHERE m.task_id = t.id
    ) u ON true
   WHERE ${where}${groupBy ? ` GROUP BY ${groupBy}` : ''}`;

const SCOPE_WHERE: Record<BudgetScope, string> = {
  task: 't.id = $1',
  ticket: 't.ticket_id = $1',
  project: 't.project_id = $1',
  daily: 't.project_id = $1',
};

/** Midnight UTC of `now`. */
export function dayStart(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/**
 * The caps of `scopes` whose spend has reached the soft threshold, each with the key that names it
 * once (per task, ticket, project, or project and UTC day): what `budget.threshold` and the budget
 * question are raised for.
 */
function pastThreshold(
  task: TaskRef,
  budget: TaskBudget,
  scopes: readonly BudgetScope[],
  now = new Date(),
): {
  scope: BudgetScope;
  unit: 'usd' | 'tokens';
  spent: number;
  cap: number;
  threshold: number;
  key: string;
}[] {
  const threshold = budget.caps.soft_threshold ?? DEFAULT_SOFT_THRESHOLD;
  const out = [];
  for (const scope of scopes) {
    const used = budget.spent[scope];
    if (!used) continue;
    for (const unit of ['usd', 'tokens'] as const) {
      const cap = budget.caps[`${scope}_${unit}`];
      if (cap === undefined || used[unit] <= 0 || used[unit] < threshold * cap) continue;
      const id =
        scope === 'task'
          ? task.id
          : scope === 'ticket'
            ? task.ticket_id
            : scope === 'daily'
              ? `${task.project_id}:${dayStart(now).toISOString().slice(0, 10)}`
              : task.project_id;
      out.push({ scope, unit, spent: used[unit], cap, threshold, key: `${scope}:${id}:${unit}` });
    }
  }
  return out;
}

/** Project settings over the server's defaults, key by key. */
export function effectiveCaps(defaults: BudgetSettings, project: BudgetSettings | undefined): BudgetSettings {
  const caps: Record<string, number> = {};
  for (const [key, value] of Object.entries({ ...defaults, ...(project ?? {}) }))
    if (typeof value === 'number') caps[key] = value;
  return caps as BudgetSettings;
}

/**
 * The budget service.
 *
 * @example
 * const budgets = createBudgetService(db, { defaults: config.budget, prices: config.prices, emit: (e) => services.events.append(e) });
 * const start = await budgets.beforeStart(task); // { ok: false, reason: 'budget reached: daily_usd ($5.01 of $5)' }
 */
export function createBudgetService(db: Queryable, options: BudgetOptions = {}) {
  const defaults = options.defaults ?? {};

  async function settingsOf(projectId: string): Promise<{ caps: BudgetSettings; prices: PriceTable }> {
    const rows = await db.query<{ settings: { budget?: BudgetSettings; prices?: PriceTable } | null }>(
      'SELECT settings FROM projects WHERE id = $1',
      [projectId],
    );
    const settings = rows[0]?.settings ?? {};
    return {
      caps: effectiveCaps(defaults, settings.budget),
      prices: { ...(options.prices ?? {}), ...(settings.prices ?? {}) },
    };
  }

  async function spentIn(scope: BudgetScope, id: string, now = new Date()): Promise<Spent> {
    const since = scope === 'daily' ? dayStart(now).toISOString() : EPOCH;
    const rows = await db.query<{ usd: unknown; tokens: unknown }>(spendSql(SCOPE_WHERE[scope]), [id, since]);
    return { usd: Number(rows[0]?.usd ?? 0), tokens: Number(rows[0]?.tokens ?? 0) };
  }

  /** Spend per scope that applies to `task` (the ticket scope only for a ticket's task). */
  async function spendOf(task: TaskRef, scopes: readonly BudgetScope[]): Promise<TaskBudget['spent']> {
    const spent: TaskBudget['spent'] = {};
    for (const scope of scopes) {
      const id = scope === 'task' ? task.id : scope === 'ticket' ? task.ticket_id : task.project_id;
      if (id) spent[scope] = await spentIn(scope, id);
    }
    return spent;
  }

  function weigh(
    caps: BudgetSettings,
    spent: TaskBudget['spent'],
  ): Pick<TaskBudget, 'remaining' | 'reached'> {
    const remaining: TaskBudget['remaining'] = { usd: null, tokens: null };
    let reached: string | null = null;
    for (const scope of BUDGET_SCOPES) {
      const used = spent[scope];
      if (!used) continue;
      for (const unit of ['usd', 'tokens'] as const) {
        const cap = caps[`${scope}_${unit}`];
        if (cap === undefined) continue;
        const left = Math.max(0, cap - used[unit]);
        remaining[unit] = remaining[unit] === null ? left : Math.min(remaining[unit], left);
        if (left <= 0 && reached === null)
          reached = budgetReachedMessage(`${scope}_${unit}`, unit, used[unit], cap);
      }
    }
    return { remaining, reached };
  }

  /**
   * The task's caps, spend and what is left. `cappedOnly` sums only the scopes that have a cap: the
   * checks on the model broker's path (every call) then cost no spend query when nothing is capped;
   * `reached`, `remaining` and the thresholds only ever look at capped scopes, so they are the same.
   */
  async function forTask(
    task: TaskRef,
    scopes: readonly BudgetScope[] = BUDGET_SCOPES,
    cappedOnly = false,
  ): Promise<TaskBudget> {
    const { caps, prices } = await settingsOf(task.project_id);
    const wanted = cappedOnly
      ? scopes.filter((s) => caps[`${s}_usd`] !== undefined || caps[`${s}_tokens`] !== undefined)
      : scopes;
    const spent = await spendOf(task, wanted);
    return { caps, prices, spent, ...weigh(caps, spent) };
  }

  async function taskRef(taskId: string): Promise<TaskRef | null> {
    const rows = await db.query<TaskRef>('SELECT id, project_id, ticket_id FROM tasks WHERE id = $1', [
      taskId,
    ]);
    return rows[0] ?? null;
  }

  /** Emits `budget.threshold` for every cap past its soft threshold, once per scope and unit. */
  async function crossThresholds(task: TaskRef, budget: TaskBudget, now = new Date()): Promise<void> {
    if (!options.emit) return;
    for (const { scope, unit, spent, cap, threshold, key } of pastThreshold(
      task,
      budget,
      BUDGET_SCOPES,
      now,
    )) {
      const event: AppendEvent = {
        type: 'budget.threshold',
        projectId: task.project_id,
        ticketId: scope === 'project' || scope === 'daily' ? null : task.ticket_id,
        taskId: scope === 'task' ? task.id : null,
        data: { key, scope, unit, spent, cap, threshold },
      };
      await options.emit(event).catch((error: unknown) => {
        // The unique index says it fired already (here or in another server).
        if ((error as { code?: string })?.code !== '23505' && !/unique/i.test(String(error))) throw error;
      });
    }
  }

  /**
   * Past a soft threshold of the ticket, project or daily cap, a run asks the person whether to go
   * on before it starts (a budget question in the inbox), once per threshold: a `continue` answer
   * to a question of that key lets every later run start without asking. Null: nothing to ask.
   */
  async function thresholdQuestion(
    task: TaskRef,
    budget: TaskBudget,
    now = new Date(),
  ): Promise<{ key: string; question: string } | null> {
    for (const { scope, unit, spent, cap, key } of pastThreshold(
      task,
      budget,
      ['ticket', 'project', 'daily'],
      now,
    )) {
      const answered = await db.query(
        `SELECT 1 FROM task_questions WHERE budget_key = $1 AND status = 'answered' LIMIT 1`,
        [key],
      );
      if (answered.length > 0) continue;
      const amount = (n: number) => (unit === 'usd' ? `$${Number(n.toFixed(4))}` : `${Math.round(n)} tokens`);
      return {
        key,
        question:
          `The ${scope === 'daily' ? "project's daily" : scope} budget is ${Math.round((spent / cap) * 100)}% spent ` +
          `(${amount(spent)} of ${amount(cap)}). Start this task anyway? Answer "continue" to go on, "stop" to cancel it.`,
      };
    }
    return null;
  }

  /** What is left for the ticket as a whole (its ticket, project and daily caps). */
  async function ticketBudget(ticket: { id: string; project_id: string }): Promise<TaskBudget> {
    return forTask({ id: '', project_id: ticket.project_id, ticket_id: ticket.id }, [
      'ticket',
      'project',
      'daily',
    ]);
  }

  /**
   * The spend of many tickets at once (the board's list, instead of one request per card): one
   * grouped query for the tickets, and per project its settings and the spend of its capped
   * project and daily scopes. `ticketSpend` is this for one ticket.
   */
  async function ticketSpends(
    tickets: readonly { id: string; project_id: string }[],
  ): Promise<Map<string, TicketSpend>> {
    const out = new Map<string, TicketSpend>();
    if (tickets.length === 0) return out;
    const rows = await db.query<{ key: string; usd: unknown; tokens: unknown }>(
      spendSql('t.ticket_id = ANY($1::uuid[])', 't.ticket_id'),
      [tickets.map((t) => t.id), EPOCH],
    );
    const byTicket = new Map(rows.map((r) => [r.key, { usd: Number(r.usd), tokens: Number(r.tokens) }]));
    const projects = new Map<string, Promise<{ caps: BudgetSettings; spent: TaskBudget['spent'] }>>();
    const projectOf = (projectId: string) => {
      let known = projects.get(projectId);
      if (!known) {
        known = (async () => {
          const { caps } = await settingsOf(projectId);
          const capped = (['project', 'daily'] as const).filter(
            (s) => caps[`${s}_usd`] !== undefined || caps[`${s}_tokens`] !== undefined,
          );
          return { caps, spent: await spendOf({ id: '', project_id: projectId, ticket_id: null }, capped) };
        })();
        projects.set(projectId, known);
      }
      return known;
    };
    for (const ticket of tickets) {
      const { caps, spent } = await projectOf(ticket.project_id);
      const own = byTicket.get(ticket.id) ?? { usd: 0, tokens: 0 };
      const { remaining } = weigh(caps, { ...spent, ticket: own });
      out.set(ticket.id, {
        ticket_id: ticket.id,
        usd: Number(own.usd.toFixed(6)),
        tokens: Math.round(own.tokens),
        caps,
        remaining,
      });
    }
    return out;
  }

  return {
    forTask,

    /**
     * Before a claimed task runs: refuses when a cap is used up, else the run's budget for its
     * environment (the least left under any cap). Emits threshold events on the way.
     */
    async beforeStart(
      task: TaskRef,
    ): Promise<
      | { ok: true; budget: RunBudget }
      | { ok: false; reason: string }
      | { ok: false; ask: { key: string; question: string } }
    > {
      const budget = await forTask(task, BUDGET_SCOPES, true);
      await crossThresholds(task, budget);
      if (budget.reached) return { ok: false, reason: budget.reached };
      const ask = await thresholdQuestion(task, budget);
      if (ask) return { ok: false, ask };
      return {
        ok: true,
        budget: { usd: budget.remaining.usd, tokens: budget.remaining.tokens, prices: budget.prices },
      };
    },

    /** The model broker's check before forwarding a call: the cap used up, or null. */
    async reachedFor(taskId: string): Promise<string | null> {
      const task = await taskRef(taskId);
      return task ? (await forTask(task, BUDGET_SCOPES, true)).reached : null;
    },

    /** After the broker recorded a call: threshold events. */
    async recorded(taskId: string): Promise<void> {
      const task = await taskRef(taskId);
      if (task) await crossThresholds(task, await forTask(task, BUDGET_SCOPES, true));
    },

    /** The USD a call cost by the price table (project overrides first); null: unknown model. */
    async priceCall(taskId: string, model: string | null, inputTokens: number, outputTokens: number) {
      const task = await taskRef(taskId);
      const prices = task ? (await settingsOf(task.project_id)).prices : (options.prices ?? {});
      const price = priceOf(model, prices);
      return price ? costOf(price, inputTokens, outputTokens) : null;
    },

    /** GET /tickets/:id/spend. */
    async ticketSpend(ticket: { id: string; project_id: string }): Promise<TicketSpend> {
      return (await ticketSpends([ticket])).get(ticket.id)!;
    },

    ticketSpends,

    /** The forecast's total against what is left: `over` when it does not fit. */
    async againstForecast(
      ticket: { id: string; project_id: string },
      forecast: Pick<Forecast, 'total'>,
    ): Promise<NonNullable<Forecast['budget']>> {
      const { remaining } = await ticketBudget(ticket);
      const over =
        (remaining.usd !== null && forecast.total.cost_usd > remaining.usd) ||
        (remaining.tokens !== null && forecast.total.tokens > remaining.tokens);
      return { remaining_usd: remaining.usd, remaining_tokens: remaining.tokens, over };
    },
  };
}

export type BudgetService = ReturnType<typeof createBudgetService>;

/**
 * Approving past the budget needs `confirm_over_budget: true`: 409 BUDGET_CONFIRMATION_REQUIRED
 * otherwise. An approved ticket is not checked again (approving is idempotent).
 */
export async function checkApprovalBudget(
  budgets: BudgetService,
  forecastOf: () => Promise<Pick<Forecast, 'total'>>,
  ticket: { id: string; project_id: string; approved_at: string | null },
  confirmed: boolean,
): Promise<void> {
  if (confirmed || ticket.approved_at) return;
  const forecast = await forecastOf();
  const budget = await budgets.againstForecast(ticket, forecast);
  if (!budget.over) return;
  const left = [
    budget.remaining_usd === null ? null : `$${Number(budget.remaining_usd.toFixed(4))}`,
    budget.remaining_tokens === null ? null : `${Math.round(budget.remaining_tokens)} tokens`,
  ]
    .filter(Boolean)
    .join(', ');
  throw new AppError(
    'BUDGET_CONFIRMATION_REQUIRED',
    `the forecast ($${forecast.total.cost_usd}, ${forecast.total.tokens} tokens) exceeds the remaining budget (${left}); approve with confirm_over_budget: true (CLI: --yes) to go ahead`,
  );
}

/** The service as the server builds it: its config's defaults and prices, events through `append`. */
export function serverBudgets(
  db: Queryable,
  config: { budget?: BudgetSettings | undefined; prices?: PriceTable | undefined },
  events?: { append: (event: AppendEvent) => Promise<unknown> },
): BudgetService {
  return createBudgetService(db, {
    ...(config.budget ? { defaults: config.budget } : {}),
    ...(config.prices ? { prices: config.prices } : {}),
    ...(events ? { emit: (event: AppendEvent) => events.append(event) } : {}),
  });
}
