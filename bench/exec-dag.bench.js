// DAG scheduling: a generated 200-task dependency graph run by the real orchestrator, queue and
// status flow on a real database, with a no-op sandbox (each task "runs" for TASK_MS and exits 0).
// Prints the time from a task's last dependency finishing to the task starting (p50, p95), and the
// wall time against critical path × TASK_MS (1.0 is perfect scheduling). Baseline in the same run:
// an ideal in-memory scheduler (no database) with the same graph and timers, whose ratio shows what
// the event loop and timers alone cost here.
// PGlite by default; set OMOI_BENCH_DATABASE_URL to run it on PostgreSQL.
import { randomBytes } from 'node:crypto';
import { createServices } from '../dist/core/services.js';
import { openDatabase } from '../dist/db/client.js';
import { createOrchestrator } from '../dist/orchestrator/orchestrator.js';
import { createOrchestratorStore } from '../dist/orchestrator/store.js';
import { createQueue } from '../dist/queue/queue.js';

const TASKS = 200;
const TASK_MS = 100;
const CONCURRENCY = 64;

/** A seeded graph: task i depends on 0–3 of the 12 tasks before it. */
function generateDag(n, seed = 7) {
  let state = seed;
  const rand = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const deps = [];
  for (let i = 0; i < n; i += 1) {
    const count = i === 0 ? 0 : Math.floor(rand() * 4);
    const set = new Set();
    for (let k = 0; k < count; k += 1) set.add(Math.max(0, i - 1 - Math.floor(rand() * 12)));
    deps.push([...set]);
  }
  return deps;
}

/** Longest chain, in tasks. */
function criticalPath(deps) {
  const depth = [];
  for (let i = 0; i < deps.length; i += 1) depth[i] = 1 + Math.max(0, ...deps[i].map((d) => depth[d]));
  return Math.max(...depth);
}

/** The widest level (tasks that could run at once under perfect scheduling). */
function width(deps) {
  const depth = [];
  const perLevel = new Map();
  for (let i = 0; i < deps.length; i += 1) {
    depth[i] = 1 + Math.max(0, ...deps[i].map((d) => depth[d]));
    perLevel.set(depth[i], (perLevel.get(depth[i]) ?? 0) + 1);
  }
  return Math.max(...perLevel.values());
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Latencies (ms) from each task's last dependency ending to its start. */
function latencies(deps, start, end) {
  const out = [];
  for (let i = 0; i < deps.length; i += 1)
    if (deps[i].length) out.push(start[i] - Math.max(...deps[i].map((d) => end[d])));
  return out;
}

/** The ideal: start each task the moment its last dependency's timer fires. */
async function ideal(deps) {
  const start = [];
  const end = [];
  const waiting = deps.map((d) => new Set(d));
  const t0 = performance.now();
  await new Promise((resolve) => {
    let left = deps.length;
    const run = (i) => {
      start[i] = performance.now();
      setTimeout(() => {
        end[i] = performance.now();
        left -= 1;
        if (left === 0) resolve();
        for (let j = 0; j < deps.length; j += 1) if (waiting[j].delete(i) && waiting[j].size === 0) run(j);
      }, TASK_MS);
    };
    for (let i = 0; i < deps.length; i += 1) if (waiting[i].size === 0) run(i);
  });
  return { wall: performance.now() - t0, start, end };
}

/** A sandbox that runs for TASK_MS and exits 0. */
function noopProvider(onStart, onEnd) {
  return {
    name: 'noop',
    availability: async () => ({ available: true }),
    async create({ taskId }) {
      onStart(taskId);
      let finished;
      const done = new Promise((resolve) => {
        finished = resolve;
      });
      const timer = setTimeout(() => {
        onEnd(taskId);
        finished({ exitCode: 0 });
      }, TASK_MS);
      return {
        id: `noop-${taskId}`,
        provider: 'noop',
        async *logs() {
          // One line when the run ends, as a worker's last output would be.
          yield {
            stream: 'system',
            text: (await done).exitCode === 0 ? 'no-op done' : 'no-op stopped',
            ts: Date.now(),
          };
        },
        wait: () => done,
        async cancel() {
          clearTimeout(timer);
          finished({ exitCode: null, signal: 'SIGTERM' });
        },
        async destroy() {},
      };
    },
  };
}

async function omoi(deps) {
  const url = process.env.OMOI_BENCH_DATABASE_URL;
  let schema = null;
  if (url) {
    schema = `bench_dag_${randomBytes(4).toString('hex')}`;
    const admin = await openDatabase({ url, migrate: false, poolSize: 1 });
    await admin.exec(`CREATE SCHEMA ${schema}`);
    await admin.close();
  }
  const db = url
    ? await openDatabase({ url, searchPath: schema, migrate: true })
    : await openDatabase({ migrate: true });
  const services = await createServices(db);
  const [project] = await db.query(
    `INSERT INTO projects (name, repo_url, settings) VALUES ('bench', '/tmp/none.git', $1::jsonb) RETURNING id`,
    [JSON.stringify({ concurrency_limit: CONCURRENCY })],
  );
  const [ticket] = await db.query(
    `INSERT INTO tickets (project_id, number, ref, title, workflow_mode, status, approved_at)
     VALUES ($1, 1, 'TKT-001', 'bench', 'spec_driven', 'building', now()) RETURNING id`,
    [project.id],
  );
  // Blocked until every row exists, so nothing starts while the graph is being written.
  const ids = [];
  for (let i = 0; i < deps.length; i += 1) {
    const [row] = await db.query(
      `INSERT INTO tasks (project_id, ticket_id, title, status, spec_task_id, branch)
       VALUES ($1, $2, $3, 'blocked', $4, $5) RETURNING id`,
      [project.id, ticket.id, `task ${i}`, `TSK-${i}`, `omoi/TKT-001/TSK-${i}`],
    );
    ids.push(row.id);
    for (const d of deps[i])
      await db.query('INSERT INTO task_dependencies (task_id, depends_on_task_id) VALUES ($1, $2)', [
        row.id,
        ids[d],
      ]);
  }
  const index = new Map(ids.map((id, i) => [id, i]));
  const start = [];
  const end = [];
  let completed = 0;
  let allDone;
  const finished = new Promise((resolve) => {
    allDone = resolve;
  });
  const orchestrator = createOrchestrator({
    queue: createQueue(db, { leaseMs: 60_000 }),
    store: createOrchestratorStore(db),
    provider: noopProvider(
      (taskId) => {
        start[index.get(taskId)] = performance.now();
      },
      (taskId) => {
        end[index.get(taskId)] = performance.now();
      },
    ),
    // Status-change events come with the change's transaction: append there, count after commit.
    emit: async (event, tx) => {
      await services.events.append(event, tx);
      if (event.type === 'task.completed') {
        const count = () => {
          completed += 1;
          if (completed === deps.length) allDone();
        };
        if (tx) tx.afterCommit(count);
        else count();
      }
    },
    mintToken: async ({ taskId }) => `bench-${taskId}`,
    onTaskChanged: (taskId) => services.flow.settle(taskId),
    listen: (channel, handler) => db.listen(channel, handler),
    log: () => {},
    config: {
      apiUrl: 'http://127.0.0.1:9',
      runtimeName: 'noop',
      runtimeEnv: {},
      maxConcurrency: CONCURRENCY,
      pollMs: 5_000,
      maxTurns: 1,
      specMaxAttempts: 1,
      tokenTtlMs: 60_000,
      keepOnFailure: false,
      exclusive: !url,
    },
  });
  await orchestrator.start();
  const t0 = performance.now();
  await db.query(`UPDATE tasks SET status = 'pending' WHERE ticket_id = $1`, [ticket.id]);
  await db.query(`SELECT pg_notify('omoi_tasks', $1)`, [project.id]);
  await finished;
  const wall = performance.now() - t0;
  await orchestrator.stop();
  const [status] = await db.query('SELECT status FROM tickets WHERE id = $1', [ticket.id]);
  await services.stop();
  await db.close();
  if (url) {
    const admin = await openDatabase({ url, migrate: false, poolSize: 1 });
    await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
    await admin.close();
  }
  return { wall, start, end, ticketStatus: status.status };
}

export default async function () {
  const deps = generateDag(TASKS);
  const path = criticalPath(deps);
  const best = path * TASK_MS;
  const edges = deps.reduce((n, d) => n + d.length, 0);
  console.log(
    `${TASKS} tasks, ${edges} edges, critical path ${path} tasks, widest level ${width(deps)}, ${TASK_MS} ms per task, concurrency ${CONCURRENCY}, ${process.env.OMOI_BENCH_DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`,
  );
  const base = await ideal(deps);
  const run = await omoi(deps);
  const row = (name, r) => {
    const lat = latencies(deps, r.start, r.end);
    // Timers share the event loop with the scheduler (and with PGlite, which runs in-process), so a
    // 100 ms "run" may last longer: the longest chain of the runs' real durations shows that part.
    const ran = r.end.map((e, i) => e - r.start[i]);
    const chain = [];
    for (let i = 0; i < deps.length; i += 1) chain[i] = ran[i] + Math.max(0, ...deps[i].map((d) => chain[d]));
    const realPath = Math.max(...chain);
    console.log(
      `${name.padEnd(24)} wall ${r.wall.toFixed(0).padStart(6)} ms   dependency-done -> start p50 ${percentile(lat, 50).toFixed(1).padStart(6)} ms  p95 ${percentile(lat, 95).toFixed(1).padStart(6)} ms   wall / (critical path × per-task) ${(r.wall / best).toFixed(2)}`,
    );
    console.log(
      `${''.padEnd(24)} runs lasted p50 ${percentile(ran, 50).toFixed(0)} ms; longest chain of real run times ${realPath.toFixed(0)} ms (wall / that ${(r.wall / realPath).toFixed(2)})`,
    );
    return r.wall / best;
  };
  const idealRatio = row('ideal in-memory baseline', base);
  const omoiRatio = row('omoi orchestrator', run);
  console.log(
    `ticket ended ${run.ticketStatus}; omoi vs ideal baseline: ${(omoiRatio / idealRatio).toFixed(2)}x`,
  );
  return {
    ratio: omoiRatio,
    idealRatio,
    database: process.env.OMOI_BENCH_DATABASE_URL ? 'PostgreSQL' : 'PGlite',
  };
}
