/**
 * Lays out a task dependency graph as layers from left to right: a task sits one layer after the
 * latest of the tasks it depends on, so reading left to right is an order that can run. Within a
 * layer, tasks are ordered by the mean position of what they depend on (two sweeps), which keeps
 * most edges short and uncrossed without a layout library.
 */
export interface GraphNodeInput {
  id: string;
  title?: string;
  status?: string;
  dependsOn: string[];
}

export interface PlacedNode extends GraphNodeInput {
  layer: number;
  row: number;
  x: number;
  y: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  path: string;
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

export const NODE_WIDTH = 200;
/** Room for the id and three lines of title: most spec task titles fit whole. */
export const NODE_HEIGHT = 78;
/** Characters of an 11 px title that fit a node's width. */
export const LABEL_CHARS = 30;
export const LABEL_LINES = 3;
const LAYER_GAP = 56;
const ROW_GAP = 16;
const MARGIN = 8;

export function layoutGraph(input: GraphNodeInput[]): GraphLayout {
  const byId = new Map(input.map((node) => [node.id, node]));
  const deps = (node: GraphNodeInput) =>
    [...new Set(node.dependsOn)].filter((d) => d !== node.id && byId.has(d));

  const layerOf = new Map<string, number>();
  const visiting = new Set<string>();
  const place = (id: string): number => {
    const known = layerOf.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0; // a cycle (the validator reports it); break it here
    visiting.add(id);
    const layer = Math.max(-1, ...deps(byId.get(id)!).map(place)) + 1;
    visiting.delete(id);
    layerOf.set(id, layer);
    return layer;
  };
  const sorted = [...input].sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
  for (const node of sorted) place(node.id);

  const sparse: string[][] = [];
  for (const node of sorted) {
    const layer = layerOf.get(node.id)!;
    if (!sparse[layer]) sparse[layer] = [];
    sparse[layer].push(node.id);
  }
  // a broken cycle can leave a layer empty; close the gap
  const layers = sparse.filter((ids) => ids !== undefined);
  for (let sweep = 0; sweep < 2; sweep++) {
    const rowOf = new Map<string, number>();
    for (const ids of layers) {
      ids.forEach((id, row) => {
        rowOf.set(id, row);
      });
    }
    for (let l = 1; l < layers.length; l++) {
      const score = (id: string) => {
        const rows = deps(byId.get(id)!)
          .map((d) => rowOf.get(d))
          .filter((r): r is number => r !== undefined);
        return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Number.POSITIVE_INFINITY;
      };
      const scores = new Map(layers[l]!.map((id) => [id, score(id)]));
      layers[l]!.sort(
        (a, b) => scores.get(a)! - scores.get(b)! || a.localeCompare(b, undefined, { numeric: true }),
      );
      layers[l]!.forEach((id, row) => {
        rowOf.set(id, row);
      });
    }
  }

  const tallest = Math.max(0, ...layers.map((ids) => ids.length));
  const height = MARGIN * 2 + tallest * NODE_HEIGHT + Math.max(0, tallest - 1) * ROW_GAP;
  const nodes: PlacedNode[] = [];
  layers.forEach((ids, layer) => {
    const column = ids.length * NODE_HEIGHT + (ids.length - 1) * ROW_GAP;
    const top = MARGIN + (height - MARGIN * 2 - column) / 2; // centre short layers
    ids.forEach((id, row) => {
      nodes.push({
        ...byId.get(id)!,
        layer,
        row,
        x: MARGIN + layer * (NODE_WIDTH + LAYER_GAP),
        y: top + row * (NODE_HEIGHT + ROW_GAP),
      });
    });
  });
  const at = new Map(nodes.map((n) => [n.id, n]));
  const edges: PlacedEdge[] = [];
  for (const node of nodes) {
    for (const dep of deps(node)) {
      const from = at.get(dep)!;
      const x1 = from.x + NODE_WIDTH;
      const y1 = from.y + NODE_HEIGHT / 2;
      const x2 = node.x;
      const y2 = node.y + NODE_HEIGHT / 2;
      const bend = Math.max(24, (x2 - x1) / 2);
      edges.push({
        from: dep,
        to: node.id,
        path: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
      });
    }
  }
  const width =
    layers.length === 0 ? 0 : MARGIN * 2 + layers.length * NODE_WIDTH + (layers.length - 1) * LAYER_GAP;
  return { width, height: layers.length === 0 ? 0 : height, nodes, edges };
}

/**
 * A title broken at spaces into lines of at most `perLine` characters (a longer word is cut), at most
 * `maxLines` of them; when it does not fit, the last line ends with "…" (the node's tooltip holds the
 * whole title).
 */
export function wrapLabel(text: string, perLine = LABEL_CHARS, maxLines = LABEL_LINES): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    let rest = word;
    while (rest.length > perLine) {
      if (current) lines.push(current);
      current = '';
      lines.push(rest.slice(0, perLine));
      rest = rest.slice(perLine);
    }
    if (!current) current = rest;
    else if (current.length + 1 + rest.length <= perLine) current += ` ${rest}`;
    else {
      lines.push(current);
      current = rest;
    }
  }
  if (current) lines.push(current);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  const last = kept[maxLines - 1]!;
  kept[maxLines - 1] = `${last.length >= perLine ? last.slice(0, perLine - 1) : last}…`;
  return kept;
}
