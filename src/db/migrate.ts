// Forward-only SQL migrations: src/db/migrations/NNNN_slug.sql applied in name order, each once,
// recorded in schema_migrations. Several servers may start against one PostgreSQL at once, so the
// whole run holds a transaction-scoped advisory lock.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db } from './types.js';

export interface Migration {
  version: string;
  name: string;
  sql: string;
}

// dist/db/migrations is copied there by scripts/build-steps/05-db-migrations.js; running from the
// sources (tests, tsx) the files sit beside this module.
const CANDIDATES = [
  new URL('./migrations/', import.meta.url),
  new URL('../../src/db/migrations/', import.meta.url),
];

/** The migrations shipped with this version, in order. */
export function loadMigrations(): Migration[] {
  const dir = CANDIDATES.map((u) => fileURLToPath(u)).find((p) => existsSync(p));
  if (!dir) throw new Error('the database migrations folder (src/db/migrations) is missing');
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_-]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: file.slice(0, 4),
      name: file.slice(5, -4),
      sql: readFileSync(`${dir}/${file}`, 'utf8'),
    }));
}

const LOCK_KEY = 727_001; // arbitrary, fixed: "omoi migrations"

/** Applies the pending migrations; returns the versions applied now. */
export async function migrate(db: Pick<Db, 'transaction'>, migrations = loadMigrations()): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await tx.query<{ version: string }>('SELECT version FROM schema_migrations')).map((r) => r.version),
    );
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
