// `npm run bench -- api-tickets`: ticket creation throughput through the HTTP API (the app in this
// process, `app.request`, so the figures are the API and the database, not the network), on
// embedded PGlite (a data folder on disk, as `omoi start` uses it) and on PostgreSQL (the server at
// OMOI_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test, in a fresh schema).
// Each ticket is one transaction: the ticket row, its first task, two events and a NOTIFY.
// The baseline, outside the product, interleaved with it in rounds of 100 on the same database:
// the same rows written by plain SQL, one transaction per ticket through the same connections, 8 at
// once (no API, no validation, no event order lock). Prints tickets/s one at a time, 8 at once,
// and the ratio of 8 at once to the bare SQL.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../dist/api/app.js';
import { loadServerConfig } from '../dist/core/config.js';
import { createServices } from '../dist/core/services.js';
import { openDatabase } from '../dist/db/client.js';
import { makeRemote } from './run-helpers.js';

const SEQUENTIAL = 300;
const CONCURRENT = 600;
const ROUND = 100;
const CONCURRENCY = 8;

/** One ticket as plain SQL: the rows and the NOTIFY that POST /tickets writes, in one transaction. */
function bareTicket(db, projectId, i) {
  return db.transaction(async (tx) => {
    const [{ n }] = await tx.query(
      'UPDATE projects SET ticket_seq = ticket_seq + 1 WHERE id = $1 RETURNING ticket_seq AS n',
      [projectId],
    );
    const [ticket] = await tx.query(
      `INSERT INTO tickets (project_id, number, ref, title, description, workflow_mode)
       VALUES ($1, $2, $3, $4, $4, 'quick') RETURNING id`,
      [projectId, n, `TKT-${n}`, `Ticket ${i}: add a feature`],
    );
    await tx.query(
      `INSERT INTO events (type, project_id, ticket_id, data) VALUES ('ticket.created', $1, $2, '{}'::jsonb)`,
      [projectId, ticket.id],
    );
    const [task] = await tx.query(
      `INSERT INTO tasks (project_id, ticket_id, title, task_type, execution_mode, execution_config, status)
       VALUES ($1, $2, $3, 'implementation', 'implementation', '{}'::jsonb, 'pending') RETURNING id`,
      [projectId, ticket.id, `Ticket ${i}: add a feature`],
    );
    await tx.query(
      `INSERT INTO events (type, project_id, ticket_id, task_id, data) VALUES ('task.created', $1, $2, $3, '{}'::jsonb)`,
      [projectId, ticket.id, task.id],
    );
    await tx.query("SELECT pg_notify('omoi_tasks', $1)", [projectId]);
  });
}

/** Runs `make(i)` for i in [from, to) with CONCURRENCY at once; returns the milliseconds taken. */
async function concurrently(from, to, make) {
  let next = from;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < to) await make(next++);
    }),
  );
  return performance.now() - start;
}

async function measure(db, remote) {
  const services = await createServices(db);
  const app = createApp({ services, config: loadServerConfig({}, { webDir: null }) });
  const post = async (path, body) => {
    const res = await app.request(`/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  try {
    const project = await post('/projects', {
      name: `bench-${randomBytes(4).toString('hex')}`,
      repo_url: remote,
    });
    const ticket = (i) =>
      post('/tickets', {
        project_id: project.id,
        description: `Ticket ${i}: add a feature`,
        workflow_mode: i % 2 ? 'quick' : 'spec_driven',
      });
    for (let i = 0; i < 30; i++) await ticket(i); // warm-up
    const start = performance.now();
    for (let i = 0; i < SEQUENTIAL; i++) await ticket(i);
    const sequential = SEQUENTIAL / ((performance.now() - start) / 1000);
    // Interleaved rounds: the API, then the bare SQL, so both see the same neighbours' load.
    const bareProject = await post('/projects', {
      name: `bench-bare-${randomBytes(4).toString('hex')}`,
      repo_url: remote,
    });
    let apiMs = 0;
    let bareMs = 0;
    for (let from = 0; from < CONCURRENT; from += ROUND) {
      apiMs += await concurrently(from, from + ROUND, ticket);
      bareMs += await concurrently(from, from + ROUND, (i) => bareTicket(db, bareProject.id, i));
    }
    const concurrent = CONCURRENT / (apiMs / 1000);
    const bare = CONCURRENT / (bareMs / 1000);
    const [{ n }] = await db.query('SELECT count(*) AS n FROM tickets WHERE project_id = $1', [project.id]);
    const refs = await db.query('SELECT count(DISTINCT ref) AS n FROM tickets WHERE project_id = $1', [
      project.id,
    ]);
    if (n !== 30 + SEQUENTIAL + CONCURRENT || refs[0].n !== n)
      throw new Error(`expected distinct tickets, got ${n}`);
    return { sequential, concurrent, bare };
  } finally {
    await services.stop();
  }
}

export default async function () {
  const dir = mkdtempSync(join(tmpdir(), 'omoi-bench-tickets-'));
  // A real repository: the API checks that a project's local repo_url exists.
  const { tmp, remote } = makeRemote();
  const results = {};
  try {
    const pglite = await openDatabase({ dataDir: dir });
    try {
      results.pglite = await measure(pglite, remote);
    } finally {
      await pglite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    await measurePostgres(results, remote);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return report(results);
}

async function measurePostgres(results, remote) {
  const url = process.env.OMOI_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `omoi_bench_${randomBytes(4).toString('hex')}`;
  try {
    const admin = await openDatabase({ url, migrate: false, poolSize: 1 });
    await admin.exec(`CREATE SCHEMA ${schema}`);
    try {
      const pg = await openDatabase({ url, searchPath: schema });
      try {
        results.postgres = await measure(pg, remote);
      } finally {
        await pg.close();
      }
    } finally {
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    }
  } catch (error) {
    console.log(`PostgreSQL at ${url}: not measured (${error.message})`);
  }
}

function report(results) {
  const fmt = (n) => n.toFixed(1).padStart(7);
  console.log(
    `tickets/s (${SEQUENTIAL} through the API one at a time; ${CONCURRENT} with ${CONCURRENCY} at once, through the API and as bare SQL, interleaved in rounds of ${ROUND}):`,
  );
  for (const [name, r] of Object.entries(results))
    console.log(
      `  ${name.padEnd(9)} sequential ${fmt(r.sequential)}   ${CONCURRENCY} at once ${fmt(r.concurrent)}   bare SQL ${fmt(r.bare)}   ratio ${(r.concurrent / r.bare).toFixed(2)}`,
    );
  return {
    pglite: results.pglite.concurrent,
    pgliteRatio: results.pglite.concurrent / results.pglite.bare,
    postgres: results.postgres?.concurrent,
    postgresRatio: results.postgres ? results.postgres.concurrent / results.postgres.bare : undefined,
  };
}
