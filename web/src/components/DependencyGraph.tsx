import {
  type GraphNodeInput,
  layoutGraph,
  NODE_HEIGHT,
  NODE_WIDTH,
  wrapLabel,
} from '../spec-graph/graph-layout';
import { statusView } from '../status/status-vocabulary';

/**
 * The task dependency graph as an SVG picture: arrows run from a task to the tasks that wait on it.
 * Titles wrap inside their node (a title too long for three lines keeps its whole text in the
 * tooltip); with `onSelect`, a click on a node opens its task.
 */
export function DependencyGraph({
  tasks,
  onSelect,
}: {
  tasks: GraphNodeInput[];
  onSelect?: (id: string) => void;
}) {
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
          // a picture for assistive technology; the tasks table beside it opens each task by keyboard
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
          {layout.nodes.map((node) => {
            const view = statusView(node.status ?? 'pending');
            const label = `${node.id}${node.title ? `: ${node.title}` : ''} (${view.label})`;
            return (
              // biome-ignore lint/a11y/noStaticElementInteractions: a pointer shortcut; the tasks table opens each task by keyboard
              <g
                key={node.id}
                transform={`translate(${node.x},${node.y})`}
                className={`graph-node status-${view.key} st-${view.tone}`}
                data-id={node.id}
                onClick={onSelect ? () => onSelect(node.id) : undefined}
              >
                <title>{label}</title>
                <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx={8} />
                <text x={10} y={19} className="graph-id">
                  {node.id}
                </text>
                <text className="graph-title">
                  {wrapLabel(node.title ?? '')
                    .map((line, row) => ({ line, y: 36 + row * 14 }))
                    .map(({ line, y }) => (
                      <tspan key={y} x={10} y={y}>
                        {line}
                      </tspan>
                    ))}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
      <figcaption className="muted">
        Left to right: each task starts after the tasks with arrows into it.
        {onSelect ? ' Select a task to open it.' : ''}
      </figcaption>
    </figure>
  );
}
