// The database handle's shape, which everything above src/db programs against (client.ts makes one).

export type Row = Record<string, unknown>;

/** Runs SQL. `query` takes one statement with `$n` parameters; `exec` takes a script without any. */
export interface Queryable {
  query<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  exec(sql: string): Promise<void>;
}

/** A transaction: statements on one connection, committed together. */
export interface Tx extends Queryable {
  /** Runs `fn` after a successful commit (in-process fan-out of what the transaction wrote). */
  afterCommit(fn: () => void): void;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** The PGlite data folder's parent (the omoi data folder), when embedded on disk. */
  readonly dataDir: string | null;
  /** Runs `fn` in one transaction; rolls back when it throws. Do not use `db` itself inside `fn`. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Subscribes to NOTIFY on `channel`; returns the unsubscribe function. */
  listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
  /** NOTIFY `channel` with `payload` (delivered to every listener, in this process or another). */
  notify(channel: string, payload: string): Promise<void>;
  /** A snapshot of an embedded database (PGlite only), to clone test databases quickly. */
  dump?(): Promise<Blob>;
  /** Closes connections and releases the data folder's lock. Safe to call twice. */
  close(): Promise<void>;
}
