// What a ticket's task graph is expected to cost and take, before anyone approves it. Each spec task's
// estimate becomes a size (the spec format's rule: 3h is S, 2d is L; none readable counts as M); a
// size costs what this project's finished tasks of that size cost on average (tokens and USD through
// the model broker, else the worker's reported usage; time from start to finish), or, with no such
// task yet, the documented default below. Time is the critical path: tasks run in parallel where the
// dependencies allow, so the longest chain of expected durations bounds the wall clock.
import type { Forecast } from '../contracts/api.js';
import type { Db } from '../db/client.js';
import { ESTIMATES, estimateSize } from '../spec-format/format.js';
import { topologicalOrder } from '../spec-format/graph.js';

type Size = (typeof ESTIMATES)[number];
type Figures = { cost_usd: number; tokens: number; minutes: number };

/**
 * The figures of a size with no history in the project (docs/design.md, "Forecast"): a rough
 * Claude Sonnet-class run of the skill's implementation loop, meant to be replaced by history fast.
 */
export const DEFAULT_SIZE_FIGURES: Record<Size, Figures> = {
  XS: { cost_usd: 0.05, tokens: 20_000, minutes: 5 },
  S: { cost_usd: 0.15, tokens: 60_000, minutes: 10 },
  M: { cost_usd: 0.4, tokens: 150_000, minutes: 20 },
  L: { cost_usd: 1.0, tokens: 400_000, minutes: 45 },
  XL: { cost_usd: 2.5, tokens: 1_000_000, minutes: 90 },
};

/** The size a task without a readable estimate counts as. */
export const UNKNOWN_SIZE: Size = 'M';

const round = (n: number, places: number) => Math.round(n * 10 ** places) / 10 ** places;

interface SpecTaskRow {
  spec_id: string;
  title: string | null;
  frontmatter: Record<string, unknown>;
}

function dependsOn(frontmatter: Record<string, unknown>): string[] {
  const deps = (frontmatter.dependencies as { depends_on?: unknown } | undefined)?.depends_on;
  return Array.isArray(deps) ? deps.filter((d): d is string => typeof d === 'string') : [];
}

/** The longest chain through `edges` (id -> ids it waits for), weighted by `minutes`. */
export function criticalPath(
  edges: Map<string, string[]>,
  minutes: Map<string, number>,
): { minutes: number; tasks: string[] } {
  const finish = new Map<string, number>();
  const via = new Map<string, string | null>();
  for (const id of topologicalOrder(edges)) {
    let start = 0;
    let before: string | null = null;
    for (const dep of edges.get(id) ?? []) {
      const at = finish.get(dep);
      if (at !== undefined && at > start) {
        start = at;
        before = dep;
      }
    }
    finish.set(id, start + (minutes.get(id) ?? 0));
    via.set(id, before);
  }
  let end: string | null = null;
  for (const [id, at] of finish) if (end === null || at > finish.get(end)!) end = id;
  const tasks: string[] = [];
  for (let at = end; at !== null; at = via.get(at) ?? null) tasks.unshift(at);
  return { minutes: end === null ? 0 : round(finish.get(end)!, 2), tasks };
}

/**
 * The forecast service.
 *
 * @example
 * const forecast = await createForecastService(db).forTicket(ticket);
 * // { total: { cost_usd: 2.15, tokens: 456000 }, critical_path: { minutes: 65, tasks: [...] }, basis: [...] }
 */
export function createForecastService(db: Db) {
  /** Mean figures per size over the project's completed spec tasks. */
  async function history(projectId: string): Promise<Map<Size, Figures & { samples: number }>> {
    const rows = await db.query<{
      estimate: string | null;
      cost: number | null;
      tokens: number | null;
      result: Record<string, unknown> | null;
      seconds: number | null;
    }>(
      `SELECT d.frontmatter->>'estimate' AS estimate, u.cost, u.tokens, t.result,
              extract(epoch FROM (t.finished_at - t.started_at))::float8 AS seconds
         FROM tasks t
         JOIN spec_documents d ON d.project_id = t.project_id AND d.spec_id = t.spec_task_id AND d.kind = 'task'
         LEFT JOIN LATERAL (
           SELECT sum(cost_usd)::float8 AS cost, sum(input_tokens + output_tokens)::float8 AS tokens
             FROM model_usage WHERE task_id = t.id
         ) u ON true
        WHERE t.project_id = $1 AND t.status = 'completed' AND t.spec_task_id IS NOT NULL
          AND t.started_at IS NOT NULL AND t.finished_at IS NOT NULL`,
      [projectId],
    );
    const sums = new Map<Size, Figures & { samples: number }>();
    for (const row of rows) {
      const size = estimateSize(row.estimate);
      if (!size) continue;
      const usage = row.result?.usage as { input_tokens?: number; output_tokens?: number } | undefined;
      const reportedTokens = (usage?.input_tokens ?? 0) + (usage?.output_tokens ?? 0);
      const reportedCost = typeof row.result?.cost_usd === 'number' ? row.result.cost_usd : 0;
      const sum = sums.get(size) ?? { cost_usd: 0, tokens: 0, minutes: 0, samples: 0 };
      sum.cost_usd += row.cost ?? reportedCost;
      sum.tokens += row.tokens ?? reportedTokens;
      sum.minutes += Math.max(0, Number(row.seconds ?? 0)) / 60;
      sum.samples += 1;
      sums.set(size, sum);
    }
    for (const [size, sum] of sums)
      sums.set(size, {
        cost_usd: sum.cost_usd / sum.samples,
        tokens: sum.tokens / sum.samples,
        minutes: sum.minutes / sum.samples,
        samples: sum.samples,
      });
    return sums;
  }

  return {
    async forTicket(ticket: { id: string; ref: string; project_id: string }): Promise<Forecast> {
      const specTasks = await db.query<SpecTaskRow>(
        `SELECT spec_id, title, frontmatter FROM spec_documents
          WHERE ticket_id = $1 AND kind = 'task' ORDER BY spec_id`,
        [ticket.id],
      );
      const past = await history(ticket.project_id);
      const figuresOf = (size: Size) => past.get(size) ?? DEFAULT_SIZE_FIGURES[size];
      const inSet = new Set(specTasks.map((t) => t.spec_id));
      const tasks = specTasks.map((t) => {
        const estimate = typeof t.frontmatter.estimate === 'string' ? t.frontmatter.estimate : null;
        const size = estimateSize(estimate) ?? UNKNOWN_SIZE;
        const f = figuresOf(size);
        return {
          spec_task_id: t.spec_id,
          title: t.title,
          estimate,
          size,
          // Dependencies outside this ticket were approved earlier: they do not lengthen this graph.
          depends_on: dependsOn(t.frontmatter).filter((d) => inSet.has(d)),
          cost_usd: round(f.cost_usd, 6),
          tokens: Math.round(f.tokens),
          minutes: round(f.minutes, 2),
        };
      });
      const used = ESTIMATES.filter((size) => tasks.some((t) => t.size === size));
      return {
        ticket_id: ticket.id,
        ref: ticket.ref,
        tasks,
        total: {
          cost_usd: round(
            tasks.reduce((n, t) => n + t.cost_usd, 0),
            6,
          ),
          tokens: tasks.reduce((n, t) => n + t.tokens, 0),
        },
        critical_path: criticalPath(
          new Map(tasks.map((t) => [t.spec_task_id, t.depends_on])),
          new Map(tasks.map((t) => [t.spec_task_id, t.minutes])),
        ),
        basis: used.map((size) => {
          const seen = past.get(size);
          const f = figuresOf(size);
          return {
            size,
            basis: seen ? ('history' as const) : ('default' as const),
            samples: seen?.samples ?? 0,
            cost_usd: round(f.cost_usd, 6),
            tokens: Math.round(f.tokens),
            minutes: round(f.minutes, 2),
          };
        }),
        note:
          tasks.length === 0
            ? 'the ticket has no synced spec tasks yet (a quick ticket, or a spec run still going)'
            : null,
      };
    },
  };
}

export type ForecastService = ReturnType<typeof createForecastService>;
