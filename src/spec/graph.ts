import type { SpecDocument, SpecGraph } from './types.js';

/**
 * Builds the task graph (`depends_on`) and ticket order (`blocked_by`) of a set of documents.
 *
 * @example
 * const { order, ready, cycles } = buildSpecGraph(validation.documents);
 */
export function buildSpecGraph(documents: SpecDocument[]): SpecGraph {
  void documents;
  return { tasks: new Map(), order: [], ready: [], cycles: [], ticketOrder: [] };
}
