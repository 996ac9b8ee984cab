// Rows leave the services as plain JSON-ready objects: snake_case as in the tables (and the HTTP
// API), timestamps as ISO strings.

/** Copies a row with every Date turned into its ISO string. */
export function plain<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row))
    out[key] = value instanceof Date ? value.toISOString() : value;
  return out as T;
}

/** Postgres error codes the services turn into client errors. */
export function pgCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
