import { type GraphNodeInput, layoutGraph, NODE_HEIGHT, NODE_WIDTH } from '../spec-graph/graph-layout';

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The task dependency graph as an SVG picture: arrows run from a task to the tasks that wait on it. */
export function DependencyGraph({ tasks }: { tasks: GraphNodeInput[] }) {
  const layout = layoutGraph(tasks);
  if (layout.nodes.length === 0) return null;
  const description = layout.nodes
    .map((n) => (n.dependsOn.length ? `${n.id} after ${n.dependsOn.join(', ')}` : `${n.id} first`))
    .join('; ');
  return (
    <figure className="graph">
      <div className="graph-scroll">
        <svg
          // shrinks to fit its column down to 70 % (text stays readable), then scrolls sideways
          width="100%"
          style={{ minWidth: Math.round(layout.width * 0.7), maxWidth: layout.width }}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          role="img"
          aria-label={`Task dependency graph: ${description}`}
        >
          <defs>
            <marker
              id="omoi-arrow"
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto"
            >
              <path d="M0,0 L10,5 L0,10 z" className="graph-arrow" />
            </marker>
          </defs>
          {layout.edges.map((edge) => (
            <path
              key={`${edge.from}>${edge.to}`}
              d={edge.path}
              className="graph-edge"
              markerEnd="url(#omoi-arrow)"
            />
          ))}
          {layout.nodes.map((node) => (
            <g
              key={node.id}
              transform={`translate(${node.x},${node.y})`}
              className={`graph-node status-${node.status ?? 'pending'}`}
            >
              <title>{`${node.id}${node.title ? `: ${node.title}` : ''}${node.status ? ` (${node.status})` : ''}`}</title>
              <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx={8} />
              <text x={10} y={19} className="graph-id">
                {node.id}
              </text>
              <text x={10} y={36} className="graph-title">
                {clip(node.title ?? '', 26)}
              </text>
            </g>
          ))}
        </svg>
      </div>
      <figcaption className="muted">
        Left to right: each task starts after the tasks with arrows into it.
      </figcaption>
    </figure>
  );
}
