// What `omoi spec show` prints: tickets with their tasks, the task order and the ready set.
// Kept beside the spec code (not in the CLI) so other views can reuse the same summary.
import { buildSpecGraph } from './graph.js';
import type { SpecDocument, SpecValidation } from './types.js';

export interface TaskView {
  id: string;
  title: string | null;
  status: string | null;
  path: string;
  dependsOn: string[];
}

export interface TicketView {
  id: string;
  title: string | null;
  status: string | null;
  priority: string | null;
  path: string;
  tasks: TaskView[];
}

export interface SpecTreeView {
  valid: boolean;
  summary: SpecValidation['summary'];
  tickets: TicketView[];
  /** Tasks whose parent_ticket names no ticket of the tree. */
  unassigned: TaskView[];
  order: string[];
  ready: string[];
  cycles: string[][];
  ticketOrder: string[];
}

function field(doc: SpecDocument, key: string): string | null {
  const value = doc.frontmatter[key];
  return typeof value === 'string' ? value : null;
}

/**
 * Summarises a validated tree: tickets in `blocked_by` order, each with its tasks (by
 * `parent_ticket`) in dependency order.
 *
 * @example
 * const view = describeSpecTree(await validateSpecDir('.'));
 * view.ready; // ['TSK-003', 'TSK-005']
 */
export function describeSpecTree(report: SpecValidation): SpecTreeView {
  const graph = buildSpecGraph(report.documents);
  const docs = new Map<string, SpecDocument>();
  for (const doc of report.documents) if (doc.id !== null && !docs.has(doc.id)) docs.set(doc.id, doc);
  const taskView = (id: string): TaskView => {
    const doc = docs.get(id)!;
    return {
      id,
      title: doc.title,
      status: field(doc, 'status'),
      path: doc.path,
      dependsOn: doc.refs.dependsOn,
    };
  };
  const tickets: TicketView[] = graph.ticketOrder.map((id) => {
    const doc = docs.get(id)!;
    return {
      id,
      title: doc.title,
      status: field(doc, 'status'),
      priority: field(doc, 'priority'),
      path: doc.path,
      tasks: [],
    };
  });
  const byTicket = new Map(tickets.map((t) => [t.id, t]));
  const unassigned: TaskView[] = [];
  for (const id of graph.order) {
    const ticket = byTicket.get(graph.tasks.get(id)!.ticket ?? '');
    (ticket ? ticket.tasks : unassigned).push(taskView(id));
  }
  return {
    valid: report.valid,
    summary: report.summary,
    tickets,
    unassigned,
    order: graph.order,
    ready: graph.ready,
    cycles: graph.cycles,
    ticketOrder: graph.ticketOrder,
  };
}

function taskLine(task: TaskView): string {
  const after = task.dependsOn.length > 0 ? `  (after ${task.dependsOn.join(', ')})` : '';
  return `    ${task.id}  [${task.status ?? '?'}]  ${task.title ?? ''}${after}`;
}

/** The human form of {@link describeSpecTree}, ending with a newline. */
export function renderSpecTree(view: SpecTreeView): string {
  const out: string[] = [];
  if (view.tickets.length === 0 && view.unassigned.length === 0) out.push('No tickets or tasks.');
  for (const ticket of view.tickets) {
    out.push(`${ticket.id}  [${ticket.status ?? '?'}]  ${ticket.priority ?? '?'}  ${ticket.title ?? ''}`);
    if (ticket.tasks.length === 0) out.push('    (no tasks)');
    out.push(...ticket.tasks.map(taskLine));
  }
  if (view.unassigned.length > 0) {
    out.push('(tasks without a ticket)');
    out.push(...view.unassigned.map(taskLine));
  }
  out.push('');
  out.push(`Order: ${view.order.join(', ') || '(none)'}`);
  out.push(`Ready: ${view.ready.join(', ') || '(none)'}`);
  for (const cycle of view.cycles) out.push(`Cycle: ${cycle.join(' -> ')}`);
  if (!view.valid) {
    out.push(`${view.summary.errors} errors: run \`omoi spec validate\` for details`);
  }
  return `${out.join('\n')}\n`;
}
