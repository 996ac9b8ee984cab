// A valid `.omoi_os/` spec set whose tasks form a given dependency graph: one requirements document,
// one design, one ticket per entry of `tickets` (with `blocked_by`) and one task per node.
import type { SpecFile } from '../../../src/spec-format/types.js';

export interface DagSpecOptions {
  /** The feature word, upper-case (ids are `TSK-<FEATURE>-NNN`). */
  feature: string;
  /** Task letter -> letters it depends on, e.g. `{ A: [], B: ['A'] }`. */
  tasks: Record<string, string[]>;
  /** Task letter -> task type (default implementation). */
  types?: Record<string, string>;
  /** Extra tickets: ticket number -> { tasks (letters), blockedBy (ticket numbers) }. Default: one ticket, all tasks. */
  tickets?: Record<number, { tasks: string[]; blockedBy?: number[] }>;
}

/** `TSK-<FEATURE>-00<n>` for letter A = 1, B = 2, … */
export function taskId(feature: string, letter: string): string {
  return `TSK-${feature}-${String(letter.charCodeAt(0) - 64).padStart(3, '0')}`;
}

export function ticketSpecId(feature: string, n: number): string {
  return `TKT-${feature}-${String(n).padStart(3, '0')}`;
}

function yamlList(key: string, values: string[], indent = ''): string[] {
  return values.length
    ? [`${indent}${key}:`, ...values.map((v) => `${indent}  - ${v}`)]
    : [`${indent}${key}: []`];
}

/**
 * Writes the spec files.
 *
 * @example
 * dagSpec({ feature: 'DIA', tasks: { A: [], B: ['A'], C: ['A'], D: ['B', 'C'], E: ['D'], F: [] } });
 */
export function dagSpec(options: DagSpecOptions): SpecFile[] {
  const { feature, tasks } = options;
  const slug = feature.toLowerCase();
  const letters = Object.keys(tasks).sort();
  const tickets = options.tickets ?? { 1: { tasks: letters } };
  const ticketOf = new Map<string, number>();
  for (const [n, t] of Object.entries(tickets)) for (const l of t.tasks) ticketOf.set(l, Number(n));
  const blocks = new Map<string, string[]>(letters.map((l) => [l, []]));
  for (const [l, deps] of Object.entries(tasks)) for (const d of deps) blocks.get(d)!.push(l);
  const ticketBlocks = new Map<number, number[]>();
  for (const [n, t] of Object.entries(tickets))
    for (const b of t.blockedBy ?? []) ticketBlocks.set(b, [...(ticketBlocks.get(b) ?? []), Number(n)]);
  const req = `REQ-${feature}-CORE-001`;
  const files: SpecFile[] = [
    {
      path: `.omoi_os/requirements/${slug}.md`,
      content: [
        '---',
        `id: REQ-${feature}-001`,
        `title: ${feature} requirements`,
        `feature: ${slug}`,
        'status: approved',
        'created: 2026-11-20',
        'updated: 2026-11-20',
        'category: functional',
        'priority: HIGH',
        `design_ref: designs/${slug}.md`,
        '---',
        '',
        `# ${feature} requirements`,
        '',
        `### ${req}: Run the ${slug} work`,
        '',
        `WHEN a person asks for ${slug} THE SYSTEM SHALL do it.`,
        '',
        `- [ ] The ${slug} work is done`,
        '',
      ].join('\n'),
    },
    {
      path: `.omoi_os/designs/${slug}.md`,
      content: [
        '---',
        `id: DESIGN-${feature}-001`,
        `title: ${feature} design`,
        `feature: ${slug}`,
        'status: approved',
        'created: 2026-11-20',
        'updated: 2026-11-20',
        ...yamlList('requirements', [req]),
        '---',
        '',
        `# ${feature} design`,
        '',
        '## Architecture Overview',
        '',
        `The ${slug} design: one module per task, wired in order.`,
        '',
      ].join('\n'),
    },
  ];
  for (const [n, t] of Object.entries(tickets)) {
    const id = ticketSpecId(feature, Number(n));
    files.push({
      path: `.omoi_os/tickets/${id}.md`,
      content: [
        '---',
        `id: ${id}`,
        `title: ${feature} ticket ${n}`,
        'status: backlog',
        'priority: HIGH',
        'estimate: M',
        'created: 2026-11-20',
        'updated: 2026-11-20',
        `design_ref: designs/${slug}.md`,
        ...yamlList('requirements', [req]),
        ...yamlList(
          'tasks',
          t.tasks.map((l) => taskId(feature, l)),
        ),
        'dependencies:',
        ...yamlList(
          'blocked_by',
          (t.blockedBy ?? []).map((b) => ticketSpecId(feature, b)),
          '  ',
        ),
        ...yamlList(
          'blocks',
          (ticketBlocks.get(Number(n)) ?? []).map((b) => ticketSpecId(feature, b)),
          '  ',
        ),
        '---',
        '',
        `# ${feature} ticket ${n}`,
        '',
        '## Description',
        '',
        `Ticket ${n} of ${slug}.`,
        '',
        '## Acceptance Criteria',
        '',
        '- [ ] Its tasks are done',
        '',
      ].join('\n'),
    });
  }
  for (const letter of letters) {
    const id = taskId(feature, letter);
    files.push({
      path: `.omoi_os/tasks/${id}.md`,
      content: [
        '---',
        `id: ${id}`,
        `title: Step ${letter}`,
        'status: pending',
        `parent_ticket: ${ticketSpecId(feature, ticketOf.get(letter) ?? 1)}`,
        'estimate: S',
        'created: 2026-11-20',
        `type: ${options.types?.[letter] ?? 'implementation'}`,
        ...yamlList('requirements', [req]),
        'dependencies:',
        ...yamlList(
          'depends_on',
          tasks[letter]!.map((d) => taskId(feature, d)),
          '  ',
        ),
        ...yamlList(
          'blocks',
          blocks.get(letter)!.map((d) => taskId(feature, d)),
          '  ',
        ),
        '---',
        '',
        `# Step ${letter}`,
        '',
        '## Objective',
        '',
        `Write step-${letter.toLowerCase()}.txt for the ${slug} feature.`,
        '',
        '## Acceptance Criteria',
        '',
        `- [ ] step-${letter.toLowerCase()}.txt exists`,
        '',
      ].join('\n'),
    });
  }
  return files;
}

/** The issue's diamond: A → B, A → C, B and C → D, D → E, F independent. */
export const DIAMOND: Record<string, string[]> = {
  A: [],
  B: ['A'],
  C: ['A'],
  D: ['B', 'C'],
  E: ['D'],
  F: [],
};

/**
 * The spec files with every task made to depend on `taskIds` (of another spec): a dependency that
 * is outside the spec, resolvable only through an earlier approval.
 *
 * @example
 * dependingOn(dagSpec({ feature: 'G', tasks: { A: [] } }), [taskId('F', 'A')]);
 */
export function dependingOn(files: SpecFile[], taskIds: string[]): SpecFile[] {
  return files.map((file) =>
    file.path.includes('/tasks/')
      ? {
          ...file,
          content: String(file.content).replace(
            '  depends_on: []',
            `  depends_on:\n${taskIds.map((id) => `    - ${id}`).join('\n')}`,
          ),
        }
      : file,
  );
}
