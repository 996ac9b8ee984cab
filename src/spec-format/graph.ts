import type { SpecDocument, SpecGraph, SpecGraphTask } from './types.js';

/** A dependency graph: each node id maps to the ids it depends on (edges to unknown ids are dropped). */
export type Edges = Map<string, string[]>;

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function knownEdges(edges: Edges, id: string): string[] {
  return (edges.get(id) ?? []).filter((to) => edges.has(to));
}

/**
 * Cycles of a dependency graph, one per strongly connected component (Tarjan, iterative so that a
 * 100k-long chain does not overflow the stack). Each cycle is a path that starts and ends at the
 * component's smallest id: `[A, B, A]`; a self-dependency is `[A, A]`.
 */
export function findCycles(edges: Edges): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const start of [...edges.keys()].sort(byId)) {
    if (index.has(start)) continue;
    const work: { id: string; next: number; targets: string[] }[] = [];
    const open = (id: string) => {
      index.set(id, counter);
      low.set(id, counter);
      counter++;
      stack.push(id);
      onStack.add(id);
      work.push({ id, next: 0, targets: [...new Set(knownEdges(edges, id))].sort(byId) });
    };
    open(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      if (frame.next < frame.targets.length) {
        const to = frame.targets[frame.next++]!;
        if (!index.has(to)) open(to);
        else if (onStack.has(to)) low.set(frame.id, Math.min(low.get(frame.id)!, index.get(to)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) === index.get(frame.id)) {
        const component: string[] = [];
        let id: string;
        do {
          id = stack.pop()!;
          onStack.delete(id);
          component.push(id);
        } while (id !== frame.id);
        const selfLoop = component.length === 1 && knownEdges(edges, frame.id).includes(frame.id);
        if (component.length > 1 || selfLoop) components.push(component);
      }
    }
  }
  return components
    .map((component) => cyclePath(edges, new Set(component)))
    .sort((a, b) => byId(a[0]!, b[0]!));
}

/** A shortest cycle through the smallest id of a strongly connected component (breadth-first). */
function cyclePath(edges: Edges, component: Set<string>): string[] {
  const start = [...component].sort(byId)[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const at = queue[head]!;
    for (const to of [...knownEdges(edges, at)].sort(byId)) {
      if (!component.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (
          let step: string | undefined = at;
          step !== undefined && step !== start;
          step = previous.get(step)
        )
          path.push(step);
        // Walked backwards from the last node: reverse into dependency order, then close the loop.
        return [start, ...path.slice(1).reverse(), start];
      }
      if (!previous.has(to)) {
        previous.set(to, at);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

/**
 * Topological order, dependencies first, smallest id first among nodes that are free at the same
 * time. Nodes caught in a cycle cannot be ordered: they come last, by id.
 */
export function topologicalOrder(edges: Edges): string[] {
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const id of edges.keys()) {
    const deps = [...new Set(knownEdges(edges, id))];
    waiting.set(id, deps.length);
    for (const dep of deps) {
      const list = dependents.get(dep);
      if (list) list.push(id);
      else dependents.set(dep, [id]);
    }
  }
  // A sorted array used as a priority queue: fine at the sizes of a spec tree (thousands).
  const free = [...waiting].filter(([, n]) => n === 0).map(([id]) => id);
  free.sort(byId);
  const order: string[] = [];
  while (free.length > 0) {
    const id = free.shift()!;
    order.push(id);
    for (const next of dependents.get(id) ?? []) {
      const left = waiting.get(next)! - 1;
      waiting.set(next, left);
      if (left === 0) {
        let at = free.length;
        while (at > 0 && byId(free[at - 1]!, next) > 0) at--;
        free.splice(at, 0, next);
      }
    }
  }
  const placed = new Set(order);
  return [...order, ...[...edges.keys()].filter((id) => !placed.has(id)).sort(byId)];
}

/**
 * Builds the task graph (`depends_on`) and the ticket order (`blocked_by`) of a set of documents.
 * Documents without a string id are skipped; when two tasks share an id the first one wins
 * (validation reports the duplicate). Dependencies on unknown ids keep a task from being ready.
 *
 * @example
 * const { order, ready, cycles } = buildSpecGraph(validation.documents);
 * // order: ['TSK-001', 'TSK-002', …]; ready: ['TSK-001']; cycles: [] or [['TSK-003', 'TSK-004', 'TSK-003']]
 */
export function buildSpecGraph(documents: SpecDocument[]): SpecGraph {
  const tasks = new Map<string, SpecGraphTask>();
  const taskEdges: Edges = new Map();
  const ticketEdges: Edges = new Map();
  for (const doc of documents) {
    if (doc.id === null) continue;
    if (doc.kind === 'task' && !tasks.has(doc.id)) {
      const status = doc.frontmatter.status;
      tasks.set(doc.id, {
        id: doc.id,
        dependsOn: doc.refs.dependsOn,
        ticket: doc.refs.parentTicket ?? null,
        status: typeof status === 'string' ? status : '',
      });
      taskEdges.set(doc.id, doc.refs.dependsOn);
    } else if (doc.kind === 'ticket' && !ticketEdges.has(doc.id)) {
      ticketEdges.set(doc.id, doc.refs.blockedBy);
    }
  }
  const order = topologicalOrder(taskEdges);
  const ready = order.filter((id) => {
    const task = tasks.get(id)!;
    return task.status !== 'done' && task.dependsOn.every((dep) => tasks.get(dep)?.status === 'done');
  });
  return {
    tasks,
    order,
    ready,
    cycles: [...findCycles(taskEdges), ...findCycles(ticketEdges)],
    ticketOrder: topologicalOrder(ticketEdges),
  };
}
