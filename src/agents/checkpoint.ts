import { QUESTION_LIMITS, type SessionCheckpoint } from '../contracts/questions.js';

/**
 * The checkpoint, or null when its JSON is longer than the server stores: a run that cannot be
 * resumed starts over with the answer in its prompt, which beats a run that fails on posting it.
 *
 * @example
 * return checkpointWithin({ runtime: 'openai', data: { version: 1, messages, pending_call_id } });
 */
export function checkpointWithin(checkpoint: SessionCheckpoint): SessionCheckpoint | null {
  return JSON.stringify(checkpoint).length <= QUESTION_LIMITS.checkpoint ? checkpoint : null;
}
