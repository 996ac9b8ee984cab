// `npm run bench -- api-tickets`: ticket creation throughput through the HTTP API (the app in this
// process, `app.request`, so the figures are the API and the database, not the network), on
// embedded PGlite (a data folder on disk, as `omoi start` uses it) and on PostgreSQL (the server at
// OMOI_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test, in a fresh schema) in
// the same run. Each ticket is one transaction: the ticket row, its first task, two events and a
// NOTIFY. Prints tickets/s one at a time and 8 at once, and PostgreSQL's ratio to PGlite.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp } from '../dist/api/app.js';
import { loadServerConfig } from '../dist/core/config.js';
import { createServices } from '../dist/core/services.js';
import { openDatabase } from '../dist/db/client.js';

const SEQUENTIAL = 300;
const CONCURRENT = 600;
const CONCURRENCY = 8;

async function measure(db) {
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
      repo_url: '/b.git',
    });
    const ticket = (i) =>
      post('/tickets', {
        project_id: project.id,
        description: `Ticket ${i}: add a feature`,
        workflow_mode: i % 2 ? 'quick' : 'spec_driven',
      });
    for (let i = 0; i < 30; i++) await ticket(i); // warm-up
    let start = performance.now();
    for (let i = 0; i < SEQUENTIAL; i++) await ticket(i);
    const sequential = SEQUENTIAL / ((performance.now() - start) / 1000);
    let next = 0;
    start = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < CONCURRENT) await ticket(next++);
      }),
    );
    const concurrent = CONCURRENT / ((performance.now() - start) / 1000);
    const [{ n }] = await db.query('SELECT count(*) AS n FROM tickets WHERE project_id = $1', [project.id]);
    const refs = await db.query('SELECT count(DISTINCT ref) AS n FROM tickets WHERE project_id = $1', [
      project.id,
    ]);
    if (n !== 30 + SEQUENTIAL + CONCURRENT || refs[0].n !== n)
      throw new Error(`expected distinct tickets, got ${n}`);
    return { sequential, concurrent };
  } finally {
    await services.stop();
  }
}

export default async function () {
  const dir = mkdtempSync(join(tmpdir(), 'omoi-bench-tickets-'));
  const results = {};
  try {
    const pglite = await openDatabase({ dataDir: dir });
    try {
      results.pglite = await measure(pglite);
    } finally {
      await pglite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const url = process.env.OMOI_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `omoi_bench_${randomBytes(4).toString('hex')}`;
  try {
    const admin = await openDatabase({ url, migrate: false, poolSize: 1 });
    await admin.exec(`CREATE SCHEMA ${schema}`);
    try {
      const pg = await openDatabase({ url, searchPath: schema });
      try {
        results.postgres = await measure(pg);
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
  const fmt = (n) => n.toFixed(1).padStart(7);
  console.log(
    `tickets/s through the API (${SEQUENTIAL} one at a time, ${CONCURRENT} with ${CONCURRENCY} at once):`,
  );
  for (const [name, r] of Object.entries(results))
    console.log(`  ${name.padEnd(9)} sequential ${fmt(r.sequential)}   concurrent ${fmt(r.concurrent)}`);
  if (results.postgres)
    console.log(
      `  PostgreSQL / PGlite: sequential ${(results.postgres.sequential / results.pglite.sequential).toFixed(2)}x, ` +
        `concurrent ${(results.postgres.concurrent / results.pglite.concurrent).toFixed(2)}x`,
    );
  return { pglite: results.pglite.concurrent, postgres: results.postgres?.concurrent };
}
