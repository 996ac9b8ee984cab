// The views of `omoi spec show <what>` and `omoi spec trace`: each is a JSON-ready value computed
// from a validation report, plus its text form. Pure: the CLI only picks one and prints it.
import { estimateSize } from './format.js';
import { buildSpecGraph } from './graph.js';
import { describeSpecTree, renderSpecTree, type SpecTreeView } from './show.js';
import type { SpecDocument, SpecValidation } from './types.js';

export const SHOW_VIEWS = [
  'all',
  'tickets',
  'tasks',
  'requirements',
  'designs',
  'graph',
  'traceability',
  'ready',
] as const;
export type ShowView = (typeof SHOW_VIEWS)[number];

const text = (doc: SpecDocument, key: string): string | null => {
  const value = doc.frontmatter[key];
  return typeof value === 'string' ? value : null;
};
const byId = (a: { id: string | null }, b: { id: string | null }) =>
  (a.id ?? '') < (b.id ?? '') ? -1 : (a.id ?? '') > (b.id ?? '') ? 1 : 0;
/** First document per id (validation reports the duplicates). */
function firstById(report: SpecValidation): Map<string, SpecDocument> {
  const map = new Map<string, SpecDocument>();
  for (const doc of report.documents) if (doc.id !== null && !map.has(doc.id)) map.set(doc.id, doc);
  return map;
}
const ofKind = (report: SpecValidation, kind: SpecDocument['kind']) =>
  [...firstById(report).values()].filter((d) => d.kind === kind).sort(byId);

export interface TicketRow {
  id: string;
  title: string | null;
  status: string | null;
  priority: string | null;
  estimate: string | null;
  size: string | null;
  blockedBy: string[];
  tasks: string[];
  path: string;
}
export interface TaskRow {
  id: string;
  title: string | null;
  status: string | null;
  ticket: string | null;
  estimate: string | null;
  size: string | null;
  dependsOn: string[];
  requirements: string[];
  path: string;
}

export function ticketRows(report: SpecValidation): TicketRow[] {
  const graph = buildSpecGraph(report.documents);
  const docs = firstById(report);
  return graph.ticketOrder.map((id) => {
    const doc = docs.get(id)!;
    const tasks = [...graph.tasks.values()].filter((t) => t.ticket === id).map((t) => t.id);
    return {
      id,
      title: doc.title,
      status: text(doc, 'status'),
      priority: text(doc, 'priority'),
      estimate: text(doc, 'estimate'),
      size: estimateSize(doc.frontmatter.estimate),
      blockedBy: doc.refs.blockedBy,
      tasks: graph.order.filter((t) => tasks.includes(t)),
      path: doc.path,
    };
  });
}

export function taskRows(report: SpecValidation): TaskRow[] {
  const graph = buildSpecGraph(report.documents);
  const docs = firstById(report);
  return graph.order.map((id) => {
    const doc = docs.get(id)!;
    return {
      id,
      title: doc.title,
      status: text(doc, 'status'),
      ticket: doc.refs.parentTicket ?? null,
      estimate: text(doc, 'estimate'),
      size: estimateSize(doc.frontmatter.estimate),
      dependsOn: doc.refs.dependsOn,
      requirements: doc.refs.requirements,
      path: doc.path,
    };
  });
}

export interface RequirementsRow {
  id: string;
  title: string | null;
  status: string | null;
  path: string;
  items: { id: string; title: string; ears: string | null; criteria: number; done: number }[];
}

export function requirementRows(report: SpecValidation): RequirementsRow[] {
  return ofKind(report, 'requirements').map((doc) => ({
    id: doc.id!,
    title: doc.title,
    status: text(doc, 'status'),
    path: doc.path,
    items: (doc.items ?? []).map((item) => ({
      id: item.id,
      title: item.title,
      ears: item.ears,
      criteria: item.criteria.length,
      done: item.criteria.filter((c) => c.done).length,
    })),
  }));
}

export interface DesignRow {
  id: string;
  title: string | null;
  status: string | null;
  requirements: string[];
  path: string;
}

export function designRows(report: SpecValidation): DesignRow[] {
  return ofKind(report, 'design').map((doc) => ({
    id: doc.id!,
    title: doc.title,
    status: text(doc, 'status'),
    requirements: doc.refs.requirements,
    path: doc.path,
  }));
}

export interface GraphView {
  /** Task id -> the task ids it depends on, in dependency order. */
  tasks: { id: string; level: number; dependsOn: string[]; ticket: string | null }[];
  tickets: { id: string; level: number; blockedBy: string[] }[];
  cycles: string[][];
}

/** Each node's level: 0 with no (known) dependency, else one more than its deepest dependency. */
function levels(order: string[], deps: (id: string) => string[]): Map<string, number> {
  const level = new Map<string, number>();
  for (const id of order) {
    let l = 0;
    for (const dep of deps(id)) {
      const d = level.get(dep);
      if (d !== undefined) l = Math.max(l, d + 1);
    }
    level.set(id, l);
  }
  return level;
}

export function graphView(report: SpecValidation): GraphView {
  const graph = buildSpecGraph(report.documents);
  const docs = firstById(report);
  const taskLevel = levels(graph.order, (id) => graph.tasks.get(id)?.dependsOn ?? []);
  const ticketDeps = (id: string) => docs.get(id)?.refs.blockedBy ?? [];
  const ticketLevel = levels(graph.ticketOrder, ticketDeps);
  return {
    tasks: graph.order.map((id) => ({
      id,
      level: taskLevel.get(id)!,
      dependsOn: graph.tasks.get(id)!.dependsOn,
      ticket: graph.tasks.get(id)!.ticket,
    })),
    tickets: graph.ticketOrder.map((id) => ({ id, level: ticketLevel.get(id)!, blockedBy: ticketDeps(id) })),
    cycles: graph.cycles,
  };
}

export interface TraceRow {
  id: string;
  title: string;
  /** The requirements document the item is in. */
  document: string;
  path: string;
  designs: string[];
  tickets: string[];
  tasks: string[];
}

export interface TraceView {
  requirements: TraceRow[];
  /** Items with no design, no ticket or no task naming them (directly or through their document). */
  uncovered: { design: string[]; ticket: string[]; task: string[] };
  /** Tickets and tasks that name no requirement (directly or through their ticket). */
  untraced: { tickets: string[]; tasks: string[] };
}

/**
 * Requirement -> design -> ticket -> task. A design, ticket or task covers an item when its
 * `requirements` names the item or the item's document; a task also covers what its ticket
 * names, and a ticket what its tasks name.
 *
 * @example
 * traceSpec(report).uncovered.task; // ['REQ-AUTH-LOGIN-002']
 */
export function traceSpec(report: SpecValidation): TraceView {
  const docs = [...firstById(report).values()];
  const ticketsOf = new Map<string, Set<string>>();
  const rows: TraceRow[] = [];
  const itemDoc = new Map<string, string>();
  for (const doc of ofKind(report, 'requirements'))
    for (const item of doc.items ?? []) {
      if (itemDoc.has(item.id)) continue;
      itemDoc.set(item.id, doc.id!);
      rows.push({
        id: item.id,
        title: item.title,
        document: doc.id!,
        path: doc.path,
        designs: [],
        tickets: [],
        tasks: [],
      });
    }
  const byItem = new Map(rows.map((r) => [r.id, r]));
  /** The items a `requirements` list covers. */
  const covered = (ids: string[]) => {
    const out = new Set<string>();
    for (const id of ids) {
      if (byItem.has(id)) out.add(id);
      else for (const [item, doc] of itemDoc) if (doc === id) out.add(item);
    }
    return out;
  };
  const taskDocs = docs.filter((d) => d.kind === 'task');
  for (const doc of docs) {
    if (doc.kind === 'design')
      for (const item of covered(doc.refs.requirements)) byItem.get(item)!.designs.push(doc.id!);
    if (doc.kind === 'ticket') ticketsOf.set(doc.id!, covered(doc.refs.requirements));
  }
  const untracedTasks: string[] = [];
  for (const task of taskDocs) {
    const own = covered(task.refs.requirements);
    const ticket = task.refs.parentTicket;
    const items = new Set([...own, ...(ticket ? (ticketsOf.get(ticket) ?? []) : [])]);
    if (items.size === 0) untracedTasks.push(task.id!);
    for (const item of items) {
      byItem.get(item)!.tasks.push(task.id!);
      if (ticket && ticketsOf.has(ticket)) ticketsOf.get(ticket)!.add(item);
    }
  }
  for (const [ticket, items] of ticketsOf) for (const item of items) byItem.get(item)!.tickets.push(ticket);
  for (const row of rows) {
    row.designs.sort();
    row.tickets = [...new Set(row.tickets)].sort();
    row.tasks = [...new Set(row.tasks)].sort();
  }
  return {
    requirements: rows,
    uncovered: {
      design: rows.filter((r) => r.designs.length === 0).map((r) => r.id),
      ticket: rows.filter((r) => r.tickets.length === 0).map((r) => r.id),
      task: rows.filter((r) => r.tasks.length === 0).map((r) => r.id),
    },
    untraced: {
      tickets: [...ticketsOf]
        .filter(([, items]) => items.size === 0)
        .map(([id]) => id)
        .sort(),
      tasks: untracedTasks.sort(),
    },
  };
}

export function renderTrace(view: TraceView): string {
  const out: string[] = [];
  const list = (ids: string[]) => (ids.length ? ids.join(', ') : '-');
  if (view.requirements.length === 0) out.push('No requirement items.');
  for (const row of view.requirements) {
    out.push(`${row.id}  ${row.title}`);
    out.push(`    design  ${list(row.designs)}`);
    out.push(`    ticket  ${list(row.tickets)}`);
    out.push(`    task    ${list(row.tasks)}`);
  }
  const n = view.requirements.length;
  out.push('');
  out.push(
    `${n} requirements: ${n - view.uncovered.design.length} with a design, ${n - view.uncovered.ticket.length} with a ticket, ${n - view.uncovered.task.length} with a task`,
  );
  const gaps: [string, string[]][] = [
    ['No design', view.uncovered.design],
    ['No ticket', view.uncovered.ticket],
    ['No task', view.uncovered.task],
    ['Tickets naming no requirement', view.untraced.tickets],
    ['Tasks naming no requirement', view.untraced.tasks],
  ];
  for (const [label, ids] of gaps) if (ids.length) out.push(`${label}: ${ids.join(', ')}`);
  return `${out.join('\n')}\n`;
}

export function renderGraph(view: GraphView): string {
  const out: string[] = [];
  const draw = (title: string, nodes: { id: string; level: number; deps: string[] }[]) => {
    out.push(title);
    if (nodes.length === 0) out.push('  (none)');
    for (const node of nodes) {
      const indent = '  '.repeat(node.level + 1);
      out.push(
        `${indent}${node.level === 0 ? '' : '└─ '}${node.id}${node.deps.length ? `  <- ${node.deps.join(', ')}` : ''}`,
      );
    }
  };
  draw(
    'Tickets (blocked_by):',
    view.tickets.map((t) => ({ id: t.id, level: t.level, deps: t.blockedBy })),
  );
  draw(
    'Tasks (depends_on):',
    view.tasks.map((t) => ({ id: t.id, level: t.level, deps: t.dependsOn })),
  );
  for (const cycle of view.cycles) out.push(`Cycle: ${cycle.join(' -> ')}`);
  return `${out.join('\n')}\n`;
}

const pad = (s: string | null, n: number) => (s ?? '?').padEnd(n);

/** The JSON value and text of one view. */
export function showView(report: SpecValidation, view: ShowView): { json: unknown; text: string } {
  switch (view) {
    case 'all': {
      const tree: SpecTreeView = describeSpecTree(report);
      const requirements = requirementRows(report);
      const designs = designRows(report);
      const items = requirements.reduce((n, r) => n + r.items.length, 0);
      const designIds = designs.map((d) => d.id).join(', ') || '(none)';
      return {
        json: { ...tree, requirements, designs },
        text: `${renderSpecTree(tree)}Requirements: ${items} items in ${requirements.length} documents; designs: ${designIds}\n`,
      };
    }
    case 'tickets': {
      const rows = ticketRows(report);
      const lines = rows.map(
        (t) =>
          `${t.id.padEnd(12)} ${pad(t.status, 10)} ${pad(t.priority, 8)} ${pad(t.estimate, 4)} ${t.title ?? ''}${t.blockedBy.length ? `  (after ${t.blockedBy.join(', ')})` : ''}  [${t.tasks.length} tasks]`,
      );
      return { json: { tickets: rows }, text: `${lines.join('\n') || 'No tickets.'}\n` };
    }
    case 'tasks': {
      const rows = taskRows(report);
      const lines = rows.map(
        (t) =>
          `${t.id.padEnd(12)} ${pad(t.status, 11)} ${pad(t.ticket, 12)} ${pad(t.estimate, 4)} ${t.title ?? ''}${t.dependsOn.length ? `  (after ${t.dependsOn.join(', ')})` : ''}`,
      );
      return { json: { tasks: rows }, text: `${lines.join('\n') || 'No tasks.'}\n` };
    }
    case 'requirements': {
      const rows = requirementRows(report);
      const lines: string[] = [];
      for (const doc of rows) {
        lines.push(`${doc.id}  [${doc.status ?? '?'}]  ${doc.title ?? ''}  (${doc.path})`);
        for (const item of doc.items)
          lines.push(`    ${item.id}  ${item.title}  (${item.done}/${item.criteria} criteria done)`);
      }
      return { json: { requirements: rows }, text: `${lines.join('\n') || 'No requirements.'}\n` };
    }
    case 'designs': {
      const rows = designRows(report);
      const lines = rows.map(
        (d) => `${d.id}  [${d.status ?? '?'}]  ${d.title ?? ''}  covers ${d.requirements.join(', ') || '-'}`,
      );
      return { json: { designs: rows }, text: `${lines.join('\n') || 'No designs.'}\n` };
    }
    case 'graph': {
      const graph = graphView(report);
      return { json: graph, text: renderGraph(graph) };
    }
    case 'traceability': {
      const trace = traceSpec(report);
      return { json: trace, text: renderTrace(trace) };
    }
    case 'ready': {
      const rows = taskRows(report);
      const ready = new Set(buildSpecGraph(report.documents).ready);
      const list = rows.filter((t) => ready.has(t.id));
      const lines = list.map((t) => `${t.id.padEnd(12)} ${pad(t.ticket, 12)} ${t.title ?? ''}`);
      return { json: { ready: list }, text: `${lines.join('\n') || 'No task is ready.'}\n` };
    }
  }
}
