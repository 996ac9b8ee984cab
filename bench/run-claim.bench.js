// Claim throughput on PostgreSQL: 10,000 ready tasks and 4 concurrent claimers (claim, complete)
// with Omoi's queue, next to pg-boss fetching and completing 10,000 jobs on the same server in the
// same run. The two alternate (omoi, pg-boss, pg-boss, omoi) so that a neighbour's load on this shared
// machine falls on both sides alike; the ratio is of the summed rates. Uses OMOI_TEST_DATABASE_URL (or DATABASE_URL), default postgres://postgres@127.0.0.1:5432/test.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { openDatabase } from '../dist/db/client.js';
import { createQueue } from '../dist/queue/queue.js';

const URL_ =
  process.env.OMOI_TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const TASKS = 10_000;
const CLAIMERS = 4;
export async function omoi(admin) {
  // The real schema (the migrations of src/db) in a throwaway PostgreSQL schema.
  const schema = `bench_claim_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  const db = await openDatabase({ url: URL_, searchPath: schema, poolSize: CLAIMERS + 1, migrate: true });
  await db.query(
    `INSERT INTO projects (name, repo_url, settings) VALUES ('bench', '/tmp/x', '{"concurrency_limit": 100000}')`,
  );
  await db.query(
    `INSERT INTO tasks (project_id, title, created_at)
     SELECT (SELECT id FROM projects LIMIT 1), 't' || g, now() + g * interval '1 microsecond'
       FROM generate_series(1, ${TASKS}) g`,
  );
  const queue = createQueue(db, { leaseMs: 60_000 });
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLAIMERS }, async (_, i) => {
      for (;;) {
        const task = await queue.claim(`claimer-${i}`);
        if (!task) return;
        await queue.complete(task.id, `claimer-${i}`, {});
        done += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const [check] = await db.query(`SELECT count(*)::int AS n FROM tasks WHERE status = 'completed'`);
  await db.close();
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  if (check.n !== TASKS || done !== TASKS) throw new Error(`omoi completed ${check.n}/${TASKS}`);
  return TASKS / seconds;
}

export async function pgBoss(admin) {
  const schema = `bench_boss_${randomBytes(4).toString('hex')}`;
  const boss = new PgBoss({
    connectionString: URL_,
    schema,
    max: CLAIMERS + 1,
    supervise: false,
    schedule: false,
  });
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue('bench');
  for (let i = 0; i < TASKS; i += 1000) {
    await boss.insert(Array.from({ length: 1000 }, (_, j) => ({ name: 'bench', data: { n: i + j } })));
  }
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLAIMERS }, async () => {
      for (;;) {
        const [job] = await boss.fetch('bench');
        if (!job) return;
        await boss.complete('bench', job.id);
        done += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await boss.stop({ graceful: false, wait: true });
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  if (done !== TASKS) throw new Error(`pg-boss completed ${done}/${TASKS}`);
  return TASKS / seconds;
}

const ROUNDS = ['omoi', 'boss', 'boss', 'omoi'];

export default async function () {
  const admin = new pg.Client({ connectionString: URL_ });
  await admin.connect();
  try {
    const rates = { omoi: [], boss: [] };
    for (const side of ROUNDS) rates[side].push(side === 'omoi' ? await omoi(admin) : await pgBoss(admin));
    const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
    const ours = mean(rates.omoi);
    const theirs = mean(rates.boss);
    const each = (values) => values.map((v) => v.toFixed(0)).join(', ');
    console.log(
      `claim+complete, ${TASKS} tasks, ${CLAIMERS} concurrent claimers, PostgreSQL at ${new URL(URL_).host}, rounds ${ROUNDS.join(' ')}`,
    );
    console.log(
      `  omoi queue (lease, per-project limit, depends_on gating): ${ours.toFixed(0)} tasks/s (${each(rates.omoi)})`,
    );
    console.log(
      `  pg-boss 10 fetch+complete (baseline):                    ${theirs.toFixed(0)} jobs/s (${each(rates.boss)})`,
    );
    console.log(`  ratio omoi / pg-boss: ${(ours / theirs).toFixed(2)}`);
    return { omoi: ours, boss: theirs, ratio: ours / theirs };
  } finally {
    await admin.end();
  }
}
