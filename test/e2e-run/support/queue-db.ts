// A database holding the queue's tables, for the queue suite, on PGlite or on a fresh schema of the
// PostgreSQL server in OMOI_TEST_DATABASE_URL. The columns are the ones the tasks table contract
// names (see /work/notes/api.md); the end-to-end suites use the real migrations instead.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { QueueSql } from '../../../src/queue/queue.js';

const SCHEMA = readFileSync(fileURLToPath(new URL('./queue-schema.sql', import.meta.url)), 'utf8');

export interface QueueTestDatabase {
  sql: QueueSql;
  close(): Promise<void>;
}

export async function openQueueTestDatabase(url?: string): Promise<QueueTestDatabase> {
  if (!url) {
    const db = await PGlite.create();
    await db.exec(SCHEMA);
    const query = async <T>(text: string, params?: unknown[]) => (await db.query<T>(text, params)).rows;
    return {
      sql: {
        query,
        transaction: (fn) =>
          db.transaction((tx) =>
            fn({ query: async <T>(t: string, p?: unknown[]) => (await tx.query<T>(t, p)).rows }),
          ),
      },
      close: () => db.close(),
    };
  }
  const schema = `queue_test_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect(); // fails the suite when the server named by the URL is unreachable
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`SET search_path TO ${schema}`);
  await admin.query(SCHEMA);
  await admin.end();
  const pool = new pg.Pool({ connectionString: url, max: 8, options: `-c search_path=${schema}` });
  return {
    sql: {
      query: async (text, params) => (await pool.query(text, params as unknown[])).rows,
      async transaction(fn) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await fn({ query: async (t, p) => (await client.query(t, p as unknown[])).rows });
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      },
    },
    async close() {
      await pool.end();
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`DROP SCHEMA ${schema} CASCADE`);
      await cleanup.end();
    },
  };
}
