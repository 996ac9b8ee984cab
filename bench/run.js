#!/usr/bin/env node
// `npm run bench [-- name …]`: runs bench/<name>.bench.js (all of them without a name), in order,
// then prints one table: every row of the speed goals (issue 16) with what this run measured, the
// goal, and whether it holds. Each benchmark measures its baseline interleaved with the measured
// side in the same run (the machine is shared, so only ratios taken side by side mean anything) and
// returns its figures; the goals and their checks live here, in one place.
// Benchmarks import the compiled code from dist/, so this builds first when sources changed.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

const x = (n) => `${n.toFixed(2)}×`;
const ms = (n) => `${n.toFixed(0)} ms`;

/**
 * The rows of the table, in the issue's order: which benchmark measures it, how its figures read,
 * and the check of the goal. `m` is what that benchmark's default export returned.
 */
export const GOALS = [
  {
    what: '`omoi start` (existing folder) → /health',
    bench: 'api-startup',
    goal: '≤ 500 ms and ≤ 6× a bare node server',
    show: (m) => `${ms(m.startMs)}, ${x(m.startRatio)} bare node (${ms(m.bareMs)})`,
    holds: (m) => m.startMs <= 500 && m.startRatio <= 6,
  },
  {
    what: 'idle RSS of `omoi start` (embedded database)',
    bench: 'api-startup',
    goal: '≤ 200 MB',
    show: (m) => `${m.rssMb.toFixed(0)} MB, ${x(m.rssRatio)} bare node (${m.bareRssMb.toFixed(0)} MB)`,
    holds: (m) => m.rssMb <= 200,
  },
  {
    what: 'first start (new data folder)',
    bench: 'api-startup',
    goal: '≤ 4 s',
    show: (m) => ms(m.firstMs),
    holds: (m) => m.firstMs <= 4000,
  },
  {
    what: 'claim + complete, 10,000 tasks, 4 claimers, PostgreSQL',
    bench: 'run-claim',
    goal: '≥ 1.5× pg-boss',
    show: (m) => `${x(m.ratio)} pg-boss (${m.omoi.toFixed(0)} vs ${m.boss.toFixed(0)} tasks/s)`,
    holds: (m) => m.ratio >= 1.5,
  },
  {
    what: 'SSE: 200 subscribers × 5,000 events, post → receipt',
    bench: 'api-sse',
    goal: 'p99 ≤ 50 ms, posting ≥ 0.8× no subscriber, 0 lost, 0 duplicated',
    show: (m) =>
      `p50 ${ms(m.p50)}, p99 ${ms(m.p99)} at a third of the rate (the POST alone: p99 ${ms(m.postP99)}), posting ${x(m.postRatio)}, ${m.complete}/${m.subscribers} complete`,
    holds: (m) => m.p99 <= 50 && m.postRatio >= 0.8 && m.complete === m.subscribers && m.ordered,
  },
  {
    what: 'ticket POST → worker process running (local)',
    bench: 'run-dispatch',
    goal: 'p50 ≤ 100 ms',
    show: (m) =>
      `p50 ${ms(m.p50)}, p95 ${ms(m.p95)}; ${x(m.p50 / m.bareMs)} the bare git clone + \`node -e ""\` (${ms(m.bareMs)}, of which the spawn ${ms(m.bareSpawnMs)})`,
    holds: (m) => m.p50 <= 100,
  },
  {
    what: 'DAG of 200 tasks: wall / ideal',
    bench: 'exec-dag',
    goal: '≤ 1.05',
    show: (m) => `${m.ratio.toFixed(2)} (${m.database}; in-memory scheduler ${m.idealRatio.toFixed(2)})`,
    holds: (m) => m.ratio <= 1.05,
  },
  {
    what: '`omoi spec validate` cold, 100 tickets + 1,000 tasks',
    bench: 'spec',
    goal: '≤ 1.5× a bare `node -e ""`',
    show: (m) => `${ms(m.cliMs)}, ${x(m.ratio)} bare node (${ms(m.nodeMs)})`,
    holds: (m) => m.ratio <= 1.5,
  },
  {
    what: 'platform overhead of a spec run (offline agent)',
    bench: 'run-overhead',
    goal: '≤ 1.3× the bare git + node steps',
    show: (m) => `${ms(m.totalMs)}, ${x(m.ratio)} the bare steps (${ms(m.baselineMs)})`,
    holds: (m) => m.ratio <= 1.3,
  },
  {
    what: 'tickets created per second',
    bench: 'api-tickets',
    goal: '≥ 300/s PostgreSQL, ≥ 150/s embedded',
    show: (m) =>
      `PostgreSQL ${m.postgres ? `${m.postgres.toFixed(0)}/s (${x(m.postgresRatio)} bare SQL)` : 'not measured'}, embedded ${m.pglite.toFixed(0)}/s (${x(m.pgliteRatio)} bare SQL)`,
    holds: (m) => (m.postgres ?? 0) >= 300 && m.pglite >= 150,
  },
  {
    what: 'scale-out: 1, 2, 4 `omoi start --no-web` on one PostgreSQL',
    bench: 'run-scale',
    goal: '≥ 0.8 of linear per added process, each task completed once',
    show: (m) =>
      `${m.results.map((r) => `${r.size}: ${(r.total / (r.ms / 1000)).toFixed(0)}/s`).join(', ')}; worst ${m.worstEfficiency.toFixed(2)} of linear; database limit ≈ ${m.limit.toFixed(0)}/s; machine ${m.results.map((r) => `${(r.machineBusy * 100).toFixed(0)}%`).join('/')} busy${m.exactlyOnce ? '' : '; NOT exactly once'}`,
    holds: (m) => m.worstEfficiency >= 0.8 && m.exactlyOnce,
  },
  {
    what: 'answer POST → the agent’s next model request (local)',
    bench: 'run-answer',
    goal: 'p50 ≤ 500 ms; parked tasks hold no sandbox, no process',
    show: (m) =>
      `p50 ${ms(m.p50)}, ${x(m.ratio)} a fresh ticket's first request (${ms(m.baseMs)}); ${m.parked} parked: ${m.sandboxes} sandboxes, ${m.processes} processes`,
    holds: (m) => m.p50 <= 500 && m.sandboxes === 0 && m.processes === 0,
  },
];

/**
 * The table for `results` (bench name → figures, or an Error). With `every`, rows of benchmarks not
 * run say so; without, only the rows of those that ran.
 */
export function table(results, every = true) {
  const rows = GOALS.filter((g) => every || results.has(g.bench)).map((g) => {
    const m = results.get(g.bench);
    if (m === undefined) return [g.what, g.missing ?? 'not run', g.goal, '–'];
    if (m instanceof Error) return [g.what, `failed: ${m.message.split('\n')[0]}`, g.goal, 'no'];
    return [g.what, g.show(m), g.goal, g.holds(m) ? 'yes' : 'no'];
  });
  const head = ['what', 'measured (ratio against its baseline in this run)', 'goal', 'holds'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main() {
  execFileSync(process.execPath, [join(here, '..', 'scripts', 'ensure-built.js')], { stdio: 'inherit' });
  const all = readdirSync(here)
    .filter((f) => f.endsWith('.bench.js'))
    .map((f) => f.slice(0, -'.bench.js'.length))
    .sort();
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !all.includes(name));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown benchmark: ${unknown.join(', ')}\nusage: npm run bench -- [${all.join('|')}] …\n`,
    );
    process.exit(2);
  }
  const results = new Map();
  for (const name of wanted.length > 0 ? wanted : all) {
    process.stdout.write(`\n== bench ${name}\n`);
    try {
      const mod = await import(join(here, `${name}.bench.js`));
      const figures = await mod.default();
      if (figures !== undefined) results.set(name, figures);
    } catch (error) {
      // One broken benchmark must not hide the others' rows.
      process.stdout.write(`bench ${name} failed: ${error.stack ?? error}\n`);
      results.set(name, error instanceof Error ? error : new Error(String(error)));
      process.exitCode = 1;
    }
  }
  process.stdout.write(`\n== goals (issue 16)\n${table(results, wanted.length === 0)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
