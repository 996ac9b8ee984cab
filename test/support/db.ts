// Real databases for the test suites: embedded PGlite always, and the PostgreSQL server named by
// OMOI_TEST_DATABASE_URL when that variable is set (CI sets it). Each suite gets a fresh, migrated
// database of its own: a clone of a migrated PGlite snapshot (creating PGlite from scratch costs
// 3–6 s and ~850 MB, loading a snapshot well under a second), or a fresh schema on the server.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { type Db, openDatabase } from '../../src/db/client.js';
import { loadMigrations } from '../../src/db/migrate.js';

export type DatabaseKind = 'pglite' | 'postgres';

/** The kinds to run on: PGlite, plus PostgreSQL when OMOI_TEST_DATABASE_URL is set. */
export function databaseKinds(): DatabaseKind[] {
  return process.env.OMOI_TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

/** The PostgreSQL URL of the test server, or undefined. */
export function testDatabaseUrl(): string | undefined {
  return process.env.OMOI_TEST_DATABASE_URL || undefined;
}

let template: Promise<Blob> | null = null;

/** A migrated empty PGlite snapshot, made once per machine and migration set, cached in tmpdir. */
export function pgliteTemplate(): Promise<Blob> {
  template ??= (async () => {
    const hash = createHash('sha256');
    for (const m of loadMigrations()) hash.update(m.version).update(m.sql);
    const file = join(tmpdir(), `omoi-pglite-template-${hash.digest('hex').slice(0, 16)}.tar`);
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const db = await openDatabase({ migrate: true });
    try {
      const blob = await db.dump!();
      // Written under a temporary name and renamed, so a parallel test file never reads half a file.
      const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
      writeFileSync(partial, Buffer.from(await blob.arrayBuffer()));
      renameSync(partial, file);
      return blob;
    } finally {
      await db.close();
    }
  })();
  return template;
}

export interface TestDatabase {
  db: Db;
  kind: DatabaseKind;
  /** The URL and schema a second process can open the same PostgreSQL database with (postgres only). */
  url?: string;
  searchPath?: string;
  /** Closes the database and drops its schema (postgres). */
  cleanup(): Promise<void>;
}

/**
 * Opens a fresh migrated database of the given kind. On PostgreSQL it lives in a new schema that
 * `cleanup()` drops; if OMOI_TEST_DATABASE_URL is set but unreachable this rejects (the suite fails,
 * it never skips).
 *
 * @example
 * const { db, cleanup } = await openTestDatabase('pglite');
 */
export async function openTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const db = await openDatabase({ template: await pgliteTemplate(), migrate: true });
    return { db, kind, cleanup: () => db.close() };
  }
  const url = testDatabaseUrl();
  if (!url) throw new Error('OMOI_TEST_DATABASE_URL is not set');
  const searchPath = `omoi_test_${randomBytes(6).toString('hex')}`;
  const admin = await openDatabase({ url, migrate: false, poolSize: 1 });
  try {
    await admin.exec(`CREATE SCHEMA ${searchPath}`);
  } finally {
    await admin.close();
  }
  const db = await openDatabase({ url, searchPath, migrate: true });
  return {
    db,
    kind,
    url,
    searchPath,
    async cleanup() {
      await db.close();
      const dropper = await openDatabase({ url, migrate: false, poolSize: 1 });
      try {
        await dropper.exec(`DROP SCHEMA IF EXISTS ${searchPath} CASCADE`);
      } finally {
        await dropper.close();
      }
    },
  };
}

/**
 * Runs the same suite once per database kind (PGlite; and PostgreSQL when OMOI_TEST_DATABASE_URL is
 * set), each with a fresh migrated database created in `beforeAll` and dropped in `afterAll`.
 * `getDb()` returns it inside hooks and tests. Tests within one suite share the database, so make
 * rows unique (fresh project per test) rather than assuming empty tables.
 *
 * @example
 * describeEachDatabase('projects', (getDb, kind) => {
 *   it('stores a project', async () => {
 *     const db = getDb();
 *     await db.query(`INSERT INTO projects (name, repo_url) VALUES ($1, $2)`, ['p', '/tmp/r']);
 *   });
 * });
 */
export function describeEachDatabase(
  name: string,
  body: (getDb: () => Db, kind: DatabaseKind, getTestDatabase: () => TestDatabase) => void,
): void {
  for (const kind of databaseKinds()) {
    describe(`${name} [${kind}]`, () => {
      let current: TestDatabase | null = null;
      beforeAll(async () => {
        current = await openTestDatabase(kind);
      });
      afterAll(async () => {
        await current?.cleanup();
        current = null;
      });
      const getTestDatabase = () => {
        if (!current) throw new Error(`the ${kind} test database is not open (used outside a test or hook?)`);
        return current;
      };
      body(() => getTestDatabase().db, kind, getTestDatabase);
    });
  }
}
