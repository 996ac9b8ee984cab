import { parseSandboxSettings } from './config.js';
import type { SandboxProvider } from './provider.js';

/** Which of these provider ids belong to a task that is still claimed or running (from the database). */
export type LiveSandboxes = (ids: string[]) => Promise<Set<string>>;

/**
 * Finds and removes sandboxes that no running task owns any more: what an orchestrator leaves
 * behind when it is killed between creating a sandbox and destroying it. A sandbox must be seen
 * orphaned on two sweeps in a row before it is removed, because a live orchestrator records a new
 * sandbox in the database only just after the service created it.
 *
 * @example
 * // live: SELECT s.external_id FROM sandboxes s JOIN tasks t ON t.id = s.task_id
 * //       WHERE s.external_id = ANY($1) AND t.status IN ('claimed', 'running')
 * const sweeper = createOrphanSweeper(provider, live, log);
 * setInterval(() => sweeper.sweep(), 60_000);
 */
export function createOrphanSweeper(
  provider: SandboxProvider,
  live: LiveSandboxes,
  log: (message: string) => void = () => undefined,
): { sweep(): Promise<string[]> } {
  let suspects = new Set<string>();
  return {
    async sweep() {
      if (!provider.list || !provider.destroyById) return [];
      const held = await provider.list();
      const alive = held.length ? await live(held) : new Set<string>();
      const orphans = held.filter((id) => !alive.has(id));
      const removed: string[] = [];
      for (const id of orphans.filter((id) => suspects.has(id))) {
        try {
          await provider.destroyById(id);
          removed.push(id);
          log(`removed orphaned ${provider.name} sandbox ${id}`);
        } catch (error) {
          log(`could not remove orphaned ${provider.name} sandbox ${id}: ${String(error)}`);
        }
      }
      suspects = new Set(orphans.filter((id) => !removed.includes(id)));
      return removed;
    },
  };
}

/**
 * The `live` check for the sweeper on the server's database: a sandbox is live while the task it
 * was recorded for (the `sandboxes` table) is claimed or running. `pg` returns the ids as strings;
 * the array goes in as a text[] literal because `pg` refuses a JS array for some parameter types.
 *
 * @example
 * const sweeper = createOrphanSweeper(provider, liveSandboxesIn(db), log);
 */
export function liveSandboxesIn(sql: {
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
}): LiveSandboxes {
  return async (ids) => {
    const rows = await sql.query<{ external_id: string }>(
      `SELECT s.external_id FROM sandboxes s JOIN tasks t ON t.id = s.task_id
        WHERE s.external_id = ANY($1::text[]) AND t.status IN ('claimed', 'running')`,
      [`{${ids.map((id) => `"${id.replace(/["\\]/g, '\\$&')}"`).join(',')}}`],
    );
    return new Set(rows.map((row) => row.external_id));
  };
}

/**
 * Starts sweeping orphans every OMOI_ORPHAN_SWEEP_MS for a remote provider (an orchestrator calls
 * this once); returns the function that stops it. Not for `local` (its workspaces end with their
 * process) nor when failed sandboxes are kept on purpose for debugging.
 */
export function startOrphanSweeper(options: {
  provider: SandboxProvider;
  sql: Parameters<typeof liveSandboxesIn>[0];
  settings: Readonly<Record<string, unknown>>;
  keepOnFailure: boolean;
  log: (message: string) => void;
}): () => void {
  const { provider, log } = options;
  if (provider.name === 'local' || options.keepOnFailure || !provider.list || !provider.destroyById) {
    return () => undefined;
  }
  const every = parseSandboxSettings(options.settings).OMOI_ORPHAN_SWEEP_MS;
  const sweeper = createOrphanSweeper(provider, liveSandboxesIn(options.sql), log);
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweeper
      .sweep()
      .catch((error: unknown) =>
        log(`orphan sweep failed: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => {
        running = false;
      });
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}
