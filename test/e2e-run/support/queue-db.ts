// The real, migrated database for the queue and orchestrator suites: in-memory PGlite, or a fresh
// schema on the PostgreSQL server in OMOI_TEST_DATABASE_URL (fails when that server is unreachable).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Db, openDatabase } from '../../../src/db/client.js';

export interface QueueTestDatabase {
  db: Db;
  /** PostgreSQL only: the server and the schema, for a second connection of a test's own. */
  url?: string;
  schema?: string;
  close(): Promise<void>;
}

export async function openQueueTestDatabase(url?: string): Promise<QueueTestDatabase> {
  if (!url) {
    const db = await openDatabase({ migrate: true });
    return { db, close: () => db.close() };
  }
  const schema = `run_test_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const db = await openDatabase({ url, searchPath: schema, migrate: true });
  return {
    db,
    url,
    schema,
    async close() {
      await db.close();
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`DROP SCHEMA ${schema} CASCADE`);
      await cleanup.end();
    },
  };
}

/** The databases a queue suite runs on: PGlite always, PostgreSQL when OMOI_TEST_DATABASE_URL is set. */
export function queueTestTargets(): [string, () => Promise<QueueTestDatabase>][] {
  const url = process.env.OMOI_TEST_DATABASE_URL;
  return [
    ['pglite', () => openQueueTestDatabase()],
    ...(url
      ? [['postgres', () => openQueueTestDatabase(url)] as [string, () => Promise<QueueTestDatabase>]]
      : []),
  ];
}
