// Waiting in tests without fixed sleeps: poll for a condition, and find a free port.
import { createServer } from 'node:net';

/** A port nobody listens on right now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * OMOI_TEST_WAIT_MS: the default wait of `eventually` (and the API suites' `waitFor`) when the
 * caller names none. The mutation runs set it short: a mutant that stops an event from arriving
 * then fails its test in seconds instead of running into Stryker's timeout.
 */
export const DEFAULT_WAIT_MS: number | undefined = process.env.OMOI_TEST_WAIT_MS
  ? Number(process.env.OMOI_TEST_WAIT_MS)
  : undefined;

/** What a truthy check result can be. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/**
 * Polls until `check` returns something truthy (a throw counts as not yet); generous by default,
 * for a loaded 2-core machine. The timeout message names `what` and the last error seen.
 *
 * @example
 * const task = await eventually(() => getTask(id).then((t) => t.status === 'completed' && t), 'the task to complete');
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = DEFAULT_WAIT_MS ?? 120_000,
  intervalMs = 100,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Truthy<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `Timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
