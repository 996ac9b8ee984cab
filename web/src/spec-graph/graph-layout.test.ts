import { describe, expect, it } from 'vitest';
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH, wrapLabel } from './graph-layout';

describe('layoutGraph', () => {
  it('puts each task one layer after the latest task it depends on', () => {
    const layout = layoutGraph([
      { id: 'TSK-004', dependsOn: ['TSK-002', 'TSK-003'] },
      { id: 'TSK-001', dependsOn: [] },
      { id: 'TSK-002', dependsOn: ['TSK-001'] },
      { id: 'TSK-003', dependsOn: ['TSK-001'] },
      { id: 'TSK-005', dependsOn: [] },
    ]);
    const layer = Object.fromEntries(layout.nodes.map((n) => [n.id, n.layer]));
    expect(layer).toEqual({ 'TSK-001': 0, 'TSK-005': 0, 'TSK-002': 1, 'TSK-003': 1, 'TSK-004': 2 });
    expect(layout.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual([
      'TSK-001>TSK-002',
      'TSK-001>TSK-003',
      'TSK-002>TSK-004',
      'TSK-003>TSK-004',
    ]);
    for (const edge of layout.edges) {
      const from = layout.nodes.find((n) => n.id === edge.from)!;
      const to = layout.nodes.find((n) => n.id === edge.to)!;
      expect(to.x).toBeGreaterThan(from.x);
    }
  });

  it('never overlaps two nodes and fits them in its size', () => {
    const input = Array.from({ length: 12 }, (_, i) => ({
      id: `TSK-${String(i + 1).padStart(3, '0')}`,
      dependsOn: i === 0 ? [] : [`TSK-${String(Math.floor(i / 2) + 1).padStart(3, '0')}`],
    }));
    const layout = layoutGraph(input);
    const spots = new Set(layout.nodes.map((n) => `${n.x},${n.y}`));
    expect(spots.size).toBe(12);
    for (const node of layout.nodes) {
      expect(node.x + NODE_WIDTH).toBeLessThanOrEqual(layout.width);
      expect(node.y + NODE_HEIGHT).toBeLessThanOrEqual(layout.height);
    }
  });

  it('survives cycles, self references and unknown dependencies', () => {
    const layout = layoutGraph([
      { id: 'A', dependsOn: ['B', 'A', 'MISSING'] },
      { id: 'B', dependsOn: ['A'] },
    ]);
    expect(layout.nodes).toHaveLength(2);
    expect(layout.edges.every((e) => e.from !== 'MISSING')).toBe(true);
  });

  it('is empty for no tasks', () => {
    expect(layoutGraph([])).toEqual({ width: 0, height: 0, nodes: [], edges: [] });
  });

  it('wraps a title into whole words over at most three lines, and marks a cut', () => {
    expect(wrapLabel('Add the CSV export endpoint with streaming rows', 20)).toEqual([
      'Add the CSV export',
      'endpoint with',
      'streaming rows',
    ]);
    expect(wrapLabel('Short', 20)).toEqual(['Short']);
    const cut = wrapLabel('one two three four five six seven eight nine ten eleven', 10, 2);
    expect(cut).toEqual(['one two', 'three fou…']);
    expect(wrapLabel('x'.repeat(25), 10, 3)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });
});
