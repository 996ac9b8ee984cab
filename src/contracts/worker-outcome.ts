// How a worker tells the orchestrator how its run ended: one line on stdout, the last it prints,
// `::omoi-result:: {json}`. Events say what happened on the way; this line carries the result
// (branch, commit, usage) or the reason for a failure, even when the API could not be reached.
// An implementation or integration run's outcome is its DeliveryResult (src/contracts/delivery.ts),
// on failure too: a failed verification still carries its evidence.
import type { DeliveryResult } from './delivery.js';

/** The delivery evidence fields, beside `ok`, `branch`, `commit` and `error`. */
export type DeliveryEvidence = Omit<DeliveryResult, 'ok' | 'branch' | 'commit'>;

/** What the agent spent over all its turns, when its runtime reports it. */
export interface WorkerSpend {
  usage?: { input_tokens: number; output_tokens: number };
  cost_usd?: number;
}

export type WorkerOutcome = (
  | ({
      ok: true;
      branch: string;
      commit: string | null;
      attempts?: number;
      synced?: { created: number; updated: number; unchanged: number };
    } & DeliveryEvidence)
  | ({
      ok: false;
      error: string;
      branch?: string;
      commit?: string | null;
      /** The agent asked a question and the server parked the task: not a failure (questions.ts). */
      awaiting_input?: true;
    } & DeliveryEvidence)
) &
  WorkerSpend;

export const OUTCOME_PREFIX = '::omoi-result:: ';

/** The outcome line a worker prints last (with its newline). */
export function formatOutcomeLine(outcome: WorkerOutcome): string {
  return `${OUTCOME_PREFIX}${JSON.stringify(outcome)}\n`;
}

/**
 * The outcome a log line carries, or null when it is an ordinary line (or a broken outcome line).
 *
 * @example
 * parseOutcomeLine('::omoi-result:: {"ok":false,"error":"no changes"}'); // { ok: false, error: 'no changes' }
 */
export function parseOutcomeLine(line: string): WorkerOutcome | null {
  if (!line.startsWith(OUTCOME_PREFIX)) return null;
  try {
    const value = JSON.parse(line.slice(OUTCOME_PREFIX.length)) as unknown;
    if (value && typeof value === 'object' && typeof (value as { ok?: unknown }).ok === 'boolean')
      return value as WorkerOutcome;
  } catch {
    // not JSON: treated as an ordinary line
  }
  return null;
}
