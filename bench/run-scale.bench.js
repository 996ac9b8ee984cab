// Scale-out: throughput of 1, 2 and 4 `omoi start --no-web` processes on one PostgreSQL, each
// with the benchmark-only noop sandbox (OMOI_SANDBOX=noop + OMOI_SANDBOX_NOOP=benchmark: a task
// "runs" without a process), so what is measured is claiming, recording and completing. Each size
// gets a fresh database (omoi_bench_scale_<n>_<stamp>) with 5,000 quick tickets created through
// an API-only process first; the clock runs from the first claim to the last completion (the events'
// timestamps), so the processes' start-up stays out. Prints tasks/s, the speed-up per added process against linear, and checks in the
// database that every task completed exactly once (one task.completed event each).
// Needs PostgreSQL: BENCH_DATABASE_URL or OMOI_TEST_DATABASE_URL (a server where CREATE DATABASE works).
import { readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { makeRemote, startOmoi } from './run-helpers.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 5000);
const SIZES = [1, 2, 4];
const CREATORS = 8;
/** src/core/events.ts's append lock: every event-writing transaction holds it until it commits. */
const APPEND_LOCK_KEY = 727_002;

/**
 * The database's limit: transactions per second that take the event append lock, insert a row and
 * commit (with its WAL flush), from 4 connections for 2 s. Every event-writing transaction of every
 * orchestrator queues on that lock, so this bounds events/s whatever the number of processes.
 */
async function appendLockRate(url) {
  const clients = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const c = new pg.Client({ connectionString: url });
      c.on('error', () => {});
      await c.connect();
      return c;
    }),
  );
  await clients[0].query('CREATE TABLE IF NOT EXISTS bench_probe (n int)');
  let commits = 0;
  const until = performance.now() + 2000;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < until) {
        await c.query('BEGIN');
        await c.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK_KEY]);
        await c.query('INSERT INTO bench_probe VALUES (1)');
        await c.query('COMMIT');
        commits += 1;
      }
    }),
  );
  await Promise.all(clients.map((c) => c.end()));
  return commits / 2;
}

/** CPU seconds a process has used so far (user + system), from /proc (Linux). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The machine's CPU counters (all cores, clock ticks): busy and total. */
function machineTicks() {
  const [, ...counts] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const total = counts.reduce((a, b) => a + b, 0);
  return { busy: total - counts[3] - counts[4], total };
}

function databaseUrl(base, name) {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

async function createTickets(api, projectId) {
  let next = 0;
  await Promise.all(
    Array.from({ length: CREATORS }, async () => {
      while (next < TASKS) {
        next += 1;
        await api('POST', '/tickets', {
          project_id: projectId,
          description: `Scale ticket ${next}`,
          workflow_mode: 'quick',
        });
      }
    }),
  );
}

async function countByStatus(client) {
  const { rows } = await client.query('SELECT status, count(*)::int AS n FROM tasks GROUP BY status');
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

async function measure(tmp, remote, base, size) {
  const name = `omoi_bench_scale_${size}_${Date.now()}`;
  // The maintenance database, not the one in the URL (test suites drop and recreate theirs).
  const admin = new pg.Client({ connectionString: databaseUrl(base, 'postgres') });
  admin.on('error', () => {});
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = databaseUrl(base, name);
  const client = new pg.Client({ connectionString: url });
  const env = {
    DATABASE_URL: url,
    OMOI_SANDBOX: 'noop',
    OMOI_SANDBOX_NOOP: 'benchmark',
    OMOI_MAX_CONCURRENCY: '16',
    OMOI_PROJECT_CONCURRENCY: '1000',
  };
  const servers = [];
  try {
    const setup = await startOmoi(tmp, `${name}-api`, { ...env, OMOI_ORCHESTRATOR: 'false' });
    servers.push(setup);
    const project = await setup.api('POST', '/projects', { name, repo_url: remote });
    await createTickets(setup.api, project.id);
    await client.connect();
    const total = Object.values(await countByStatus(client)).reduce((a, b) => a + b, 0);
    const start = performance.now();
    const machineBefore = machineTicks();
    const orchestrators = await Promise.all(
      Array.from({ length: size }, (_, i) => startOmoi(tmp, `${name}-${i}`, env)),
    );
    servers.push(...orchestrators);
    let counts;
    for (;;) {
      counts = await countByStatus(client);
      const open = (counts.pending ?? 0) + (counts.claimed ?? 0) + (counts.running ?? 0);
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const wallMs = performance.now() - start;
    const machineAfter = machineTicks();
    // What the orchestrators cost (start-up included) and how busy the whole machine was meanwhile:
    // with every core busy, another process adds contention, not throughput.
    const orchestratorCpu = orchestrators.reduce((sum, o) => sum + cpuSeconds(o.pid), 0);
    const machineBusy =
      (machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total);
    // The clock of the work itself: first claim to last completion, from the events' own
    // timestamps (the processes' start-up, the same for every size, stays out of the ratio).
    const [{ ms }] = (
      await client.query(
        `SELECT extract(epoch FROM max(ts) FILTER (WHERE type = 'task.completed') - min(ts) FILTER (WHERE type = 'task.claimed')) * 1000 AS ms FROM events`,
      )
    ).rows.map((r) => ({ ms: Number(r.ms) }));
    const { rows } = await client.query(
      `SELECT count(DISTINCT task_id)::int AS tasks, count(*)::int AS events FROM events WHERE type = 'task.completed'`,
    );
    const [{ n }] = (await client.query('SELECT count(*)::int AS n FROM events WHERE task_id IS NOT NULL'))
      .rows;
    const lockRate = await appendLockRate(url);
    return {
      size,
      ms,
      wallMs,
      total,
      counts,
      completedTasks: rows[0].tasks,
      completedEvents: rows[0].events,
      eventsPerTask: n / total,
      lockRate,
      cpuMsPerTask: (orchestratorCpu * 1000) / total,
      machineBusy,
    };
  } finally {
    for (const s of servers) await s.stop();
    await client.end().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
}

export default async function () {
  const base = process.env.BENCH_DATABASE_URL ?? process.env.OMOI_TEST_DATABASE_URL;
  if (!base) throw new Error('run-scale needs PostgreSQL: set BENCH_DATABASE_URL or OMOI_TEST_DATABASE_URL');
  const { tmp, remote } = makeRemote();
  try {
    const results = [];
    for (const size of SIZES) results.push(await measure(tmp, remote, base, size));
    const single = results[0].total / (results[0].ms / 1000);
    console.log(`scale-out: ${TASKS} quick tickets, noop sandbox, one PostgreSQL, fresh database per size`);
    const availableCores = availableParallelism();
    let exactlyOnce = true;
    let worst = Infinity;
    for (const r of results) {
      const rate = r.total / (r.ms / 1000);
      const speedup = rate / single;
      const efficiency = speedup / r.size;
      if (r.size > 1) worst = Math.min(worst, efficiency);
      const once =
        r.completedTasks === r.total && r.completedEvents === r.total && r.counts.completed === r.total;
      exactlyOnce &&= once;
      console.log(
        `  ${r.size} process(es): ${r.total} tasks in ${(r.ms / 1000).toFixed(1)} s (first claim → last completion; ${(r.wallMs / 1000).toFixed(1)} s with start-up) = ${rate.toFixed(0)} tasks/s, speed-up ${speedup.toFixed(2)}× (${efficiency.toFixed(2)} of linear); completed once: ${once ? 'yes' : `NO ${JSON.stringify(r.counts)} events ${r.completedEvents}`}`,
      );
      console.log(
        `    orchestrators' CPU ${r.cpuMsPerTask.toFixed(1)} ms per task; the machine's ${availableCores} cores ${(r.machineBusy * 100).toFixed(0)}% busy (every process on it) during the run`,
      );
    }
    const lockRate = Math.max(...results.map((r) => r.lockRate));
    const eventsPerTask = results[0].eventsPerTask;
    const limit = lockRate / eventsPerTask;
    console.log(
      `  database limit: ${lockRate.toFixed(0)} commits/s through the event append lock (4 connections), ${eventsPerTask.toFixed(1)} events per task => at most ${limit.toFixed(0)} tasks/s if each event commits alone`,
    );
    if (!exactlyOnce) process.exitCode = 1;
    return { singleRate: single, limit, worstEfficiency: worst, exactlyOnce, results };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
