// One database handle over two drivers: embedded PGlite (a data folder, or memory) when no URL is
// given, a `pg` Pool against PostgreSQL when one is. Everything above this file sees the same rows:
// int8 as numbers, jsonb as values, timestamps as Dates; and passes the same parameters: plain objects
// as JSON text, arrays as PostgreSQL arrays (wrap a jsonb array in `json()`: pg rejects JS arrays
// for jsonb), undefined as null.
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';
import { AppError } from '../base/errors.js';
import { acquireDataDirLock } from './lock.js';
import { migrate } from './migrate.js';
import type { Db, Row, Tx } from './types.js';

export type { Db, Queryable, Row, Tx } from './types.js';

export interface OpenDatabaseOptions {
  /** PostgreSQL connection string; when absent, PGlite is used. */
  url?: string;
  /** The omoi data folder: PGlite keeps its files in `<dataDir>/pgdata` and takes `<dataDir>/omoi.lock`.
   *  Without `url` and `dataDir` the database lives in memory. */
  dataDir?: string;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** PostgreSQL only: the schema to work in (tests give each file its own). */
  searchPath?: string;
  /** PostgreSQL only: the pool size (default 10). */
  poolSize?: number;
  /** PGlite only: start from this snapshot (from `dump()`) instead of an empty database. */
  template?: Blob;
}

/** Marks a value to be sent as JSON text (for a jsonb parameter that is an array or a scalar). */
export class JsonParam {
  constructor(readonly value: unknown) {}
}

/**
 * Wraps a value for a jsonb parameter. Plain objects are sent as JSON anyway; arrays are sent as
 * PostgreSQL arrays (for `uuid[]`, `text[]` parameters) unless wrapped.
 *
 * @example
 * await db.query('INSERT INTO events (type, data) VALUES ($1, $2::jsonb)', ['x', json([1, 2])]);
 */
export function json(value: unknown): JsonParam {
  return new JsonParam(value);
}

/** Parameters both drivers accept the same way. */
export function normaliseParams(params: readonly unknown[] | undefined): unknown[] | undefined {
  if (!params) return undefined;
  return params.map((p) => {
    if (p === undefined) return null;
    if (typeof p === 'bigint') return p.toString();
    if (p instanceof JsonParam) return p.value === undefined ? null : JSON.stringify(p.value);
    if (
      p === null ||
      typeof p !== 'object' ||
      p instanceof Date ||
      p instanceof Uint8Array ||
      Array.isArray(p)
    )
      return p;
    return JSON.stringify(p);
  });
}

/**
 * Opens (and by default migrates) the database.
 *
 * @example
 * const db = await openDatabase({ dataDir: './.omoi' });            // embedded, locked folder
 * const pgDb = await openDatabase({ url: process.env.DATABASE_URL }); // PostgreSQL
 * const rows = await db.query<{ n: number }>('SELECT count(*) AS n FROM projects');
 * await db.close();
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Db> {
  const db = options.url ? await openPostgres(options.url, options) : await openPglite(options);
  if (options.migrate !== false) {
    try {
      await migrate(db);
    } catch (error) {
      await db.close();
      throw error;
    }
  }
  return db;
}

/**
 * PGlite's page cache. Its default (128MB) is touched whole at start and was a third of an idle
 * `omoi start`'s memory; one user's embedded database works in far less. A cache size only: no
 * effect on what is written or when.
 */
const PGLITE_SHARED_BUFFERS = '16MB';

async function openPglite(options: OpenDatabaseOptions): Promise<Db> {
  const release = options.dataDir ? acquireDataDirLock(options.dataDir) : () => {};
  let pglite: PGlite;
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    pglite = await PGlite.create({
      ...(options.dataDir ? { dataDir: join(options.dataDir, 'pgdata') } : {}),
      ...(options.template ? { loadDataDir: options.template } : {}),
      startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
    });
  } catch (error) {
    release();
    throw new AppError('INTERNAL', `could not open the embedded database: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let closed = false;
  const turn = takeTurns();

  const queryOn = (target: Pick<PGlite, 'query'>) =>
    async function query<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      return (await target.query<T>(sql, normaliseParams(params))).rows;
    };

  const topQuery = queryOn(pglite);
  async function transactionOn<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const hooks: Array<() => void> = [];
    const result = await pglite.transaction(async (t) =>
      fn({
        query: queryOn(t),
        exec: async (sql) => void (await t.exec(sql)),
        afterCommit: (hook) => hooks.push(hook),
      }),
    );
    for (const hook of hooks) hook();
    return result;
  }
  return {
    kind: 'pglite',
    dataDir: options.dataDir ?? null,
    query: (sql, params) => turn(() => topQuery(sql, params)),
    async exec(sql) {
      await turn(() => pglite.exec(sql));
    },
    transaction: (fn) => turn(() => transactionOn(fn)),
    async listen(channel, handler) {
      const unlisten = await pglite.listen(channel, handler);
      return async () => {
        if (!pglite.closed) await unlisten();
      };
    },
    async notify(channel, payload) {
      await turn(() => pglite.query('SELECT pg_notify($1, $2)', [channel, payload]));
    },
    dump: () => pglite.dumpDataDir('none'),
    async close() {
      if (closed) return;
      closed = true;
      try {
        await pglite.close();
      } finally {
        release();
      }
    },
  };
}

/**
 * PGlite runs each statement on this thread, synchronously, and its own lock hands the next queued
 * statement over in a microtask: a burst of queued statements ran back to back and held off timers,
 * sockets and every other callback until the last one was done. Here each top-level operation (a
 * statement, or a whole transaction) waits its turn and then one pass of the event loop before it
 * starts, so whatever else is due runs between two of them.
 */
function takeTurns() {
  const waiting: Array<() => void> = [];
  let busy = false;
  const next = () => {
    const start = waiting.shift();
    busy = start !== undefined;
    if (start) setImmediate(start);
  };
  return <T>(op: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      waiting.push(() => {
        Promise.resolve().then(op).then(resolve, reject).finally(next);
      });
      if (!busy) next();
    });
}

type PgModule = typeof import('pg').default;
type PgConnection = import('pg').ClientConfig;

async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<Db> {
  const pg = (await import('pg')).default;
  const connection = connectionConfig(pg, url, options);
  const pool = await connectPool(pg, connection, url, options.poolSize ?? 10);
  const listener = createListener(pg, connection);
  return {
    kind: 'postgres',
    dataDir: null,
    query: queryOn(pool),
    async exec(sql) {
      await pool.query(sql);
    },
    transaction: (fn) => transactionOn(pool, fn),
    listen: listener.listen,
    async notify(channel, payload) {
      await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      if (!(await listener.close())) return;
      await pool.end();
    },
  };
}

/** The settings every connection shares: int8 as numbers (per pool, not pg's global parsers), the schema. */
function connectionConfig(pg: PgModule, url: string, options: OpenDatabaseOptions): PgConnection {
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as never,
  };
  return {
    connectionString: url,
    types,
    ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
  };
}

/** The pool, with one connection made up front so a wrong URL fails here, clearly. */
async function connectPool(pg: PgModule, connection: PgConnection, url: string, max: number): Promise<Pool> {
  const pool: Pool = new pg.Pool({ ...connection, max });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  try {
    const probe = await pool.connect();
    probe.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new AppError(
      'CONFIG_INVALID',
      `cannot reach PostgreSQL at ${redact(url)}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return pool;
}

function queryOn(target: Pick<Pool, 'query'> | PoolClient) {
  return async function query<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return (await target.query(sql, normaliseParams(params))).rows as T[];
  };
}

/** BEGIN … COMMIT on one pooled connection; the after-commit hooks run once it committed. */
async function transactionOn<T>(pool: Pool, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const hooks: Array<() => void> = [];
  try {
    await client.query('BEGIN');
    const result = await fn({
      query: queryOn(client),
      exec: async (sql) => void (await client.query(sql)),
      afterCommit: (hook) => hooks.push(hook),
    });
    await client.query('COMMIT');
    client.release();
    for (const hook of hooks) hook();
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    client.release();
    throw error;
  }
}

/**
 * LISTEN needs one connection that stays open: made on first use, re-made after it drops, shared by
 * every channel and handler of this handle. `close()` returns false when it was closed already.
 */
function createListener(pg: PgModule, connection: PgConnection) {
  const handlers = new Map<string, Set<(payload: string) => void>>();
  let listener: import('pg').Client | null = null;
  let listenerReady: Promise<import('pg').Client> | null = null;
  let closed = false;

  function connectListener(): Promise<import('pg').Client> {
    if (listenerReady) return listenerReady;
    listenerReady = (async () => {
      const client = new pg.Client(connection);
      client.on('notification', (msg) => {
        for (const handler of handlers.get(msg.channel) ?? []) handler(msg.payload ?? '');
      });
      client.on('error', () => {
        listener = null;
        listenerReady = null;
        client.end().catch(() => {});
        if (!closed && handlers.size > 0) setTimeout(() => void connectListener().catch(() => {}), 1000);
      });
      await client.connect();
      for (const channel of handlers.keys()) await client.query(`LISTEN ${quoteIdent(channel)}`);
      listener = client;
      return client;
    })();
    listenerReady.catch(() => {
      listenerReady = null;
    });
    return listenerReady;
  }

  return {
    async listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>> {
      let set = handlers.get(channel);
      const first = !set;
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
      }
      set.add(handler);
      const client = await connectListener();
      if (first && listener === client) await client.query(`LISTEN ${quoteIdent(channel)}`);
      return async () => {
        const current = handlers.get(channel);
        current?.delete(handler);
        if (current && current.size === 0) {
          handlers.delete(channel);
          if (listener && !closed) await listener.query(`UNLISTEN ${quoteIdent(channel)}`).catch(() => {});
        }
      };
    },
    async close(): Promise<boolean> {
      if (closed) return false;
      closed = true;
      const client = listener;
      listener = null;
      await client?.end().catch(() => {});
      return true;
    },
  };
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
