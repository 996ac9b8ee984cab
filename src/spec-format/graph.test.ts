import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSpecGraph, findCycles, topologicalOrder } from './graph.js';
import type { SpecDocument } from './types.js';
import { validateSpecDir } from './validate.js';

function task(id: string, dependsOn: string[], status = 'pending', ticket = 'TKT-001'): SpecDocument {
  return {
    kind: 'task',
    id,
    path: `.omoi_os/tasks/${id}.md`,
    title: id,
    frontmatter: { id, status },
    body: '',
    contentHash: '',
    refs: {
      parentTicket: ticket,
      dependsOn,
      blocks: [],
      blockedBy: [],
      related: [],
      tasks: [],
      requirements: [],
    },
  };
}

function ticket(id: string, blockedBy: string[]): SpecDocument {
  return {
    ...task(id, []),
    kind: 'ticket',
    refs: { ...task(id, []).refs, blockedBy, parentTicket: undefined },
  };
}

describe('buildSpecGraph', () => {
  it('orders a diamond dependencies-first, by id among equals, and finds the ready set', () => {
    const graph = buildSpecGraph([
      task('TSK-004', ['TSK-002', 'TSK-003']),
      task('TSK-003', ['TSK-001']),
      task('TSK-002', ['TSK-001']),
      task('TSK-001', [], 'done'),
      task('TSK-000', []),
    ]);
    expect(graph.order).toEqual(['TSK-000', 'TSK-001', 'TSK-002', 'TSK-003', 'TSK-004']);
    expect(graph.ready).toEqual(['TSK-000', 'TSK-002', 'TSK-003']);
    expect(graph.cycles).toEqual([]);
    expect(graph.tasks.get('TSK-004')).toEqual({
      id: 'TSK-004',
      dependsOn: ['TSK-002', 'TSK-003'],
      ticket: 'TKT-001',
      status: 'pending',
    });
  });

  it('a task depending on an unknown task is never ready; done tasks are not ready', () => {
    const graph = buildSpecGraph([task('TSK-001', ['TSK-404']), task('TSK-002', [], 'done')]);
    expect(graph.order).toEqual(['TSK-001', 'TSK-002']);
    expect(graph.ready).toEqual([]);
  });

  it('reports each cycle once as a closed path, and puts cycle members last in the order', () => {
    const graph = buildSpecGraph([
      task('TSK-001', []),
      task('TSK-002', ['TSK-004']),
      task('TSK-003', ['TSK-002']),
      task('TSK-004', ['TSK-003']),
      task('TSK-005', ['TSK-005']),
      task('TSK-006', ['TSK-001']),
    ]);
    expect(graph.cycles).toEqual([
      ['TSK-002', 'TSK-004', 'TSK-003', 'TSK-002'],
      ['TSK-005', 'TSK-005'],
    ]);
    expect(graph.order).toEqual(['TSK-001', 'TSK-006', 'TSK-002', 'TSK-003', 'TSK-004', 'TSK-005']);
    expect(graph.ready).toEqual(['TSK-001']);
  });

  it('orders tickets by blocked_by and finds ticket cycles', () => {
    const graph = buildSpecGraph([
      ticket('TKT-003', ['TKT-001']),
      ticket('TKT-001', ['TKT-002']),
      ticket('TKT-002', []),
    ]);
    expect(graph.ticketOrder).toEqual(['TKT-002', 'TKT-001', 'TKT-003']);
    const cyclic = buildSpecGraph([ticket('TKT-001', ['TKT-002']), ticket('TKT-002', ['TKT-001'])]);
    expect(cyclic.cycles).toEqual([['TKT-001', 'TKT-002', 'TKT-001']]);
  });

  it('handles a 100k-long chain without overflowing the stack', () => {
    const edges = new Map<string, string[]>();
    for (let i = 0; i < 100_000; i++)
      edges.set(`T${String(i).padStart(6, '0')}`, i ? [`T${String(i - 1).padStart(6, '0')}`] : []);
    expect(findCycles(edges)).toEqual([]);
    expect(topologicalOrder(edges)[99_999]).toBe('T099999');
    edges.set('T000000', ['T099999']);
    expect(findCycles(edges)[0]).toHaveLength(100_001);
  });

  it('the example tree: diamonds resolve and three tasks are ready', async () => {
    const report = await validateSpecDir(join(import.meta.dirname, '..', '..', 'examples', 'spec-driven'));
    expect(report.issues).toEqual([]);
    expect(report.summary).toEqual({ files: 18, errors: 0, warnings: 0 });
    const graph = buildSpecGraph(report.documents);
    expect(graph.tasks.size).toBe(12);
    expect(graph.ready).toEqual(['TSK-003', 'TSK-005', 'TSK-006']);
    expect(graph.ticketOrder).toEqual(['TKT-001', 'TKT-002', 'TKT-003']);
    const at = (id: string) => graph.order.indexOf(id);
    for (const [id, t] of graph.tasks) for (const dep of t.dependsOn) expect(at(dep)).toBeLessThan(at(id));
    const req = report.documents.find((d) => d.kind === 'requirements')!;
    expect(req.items?.map((i) => i.id)).toHaveLength(5);
  });
});
