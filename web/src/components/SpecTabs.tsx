import { type KeyboardEvent, useId, useState } from 'react';
import type { RequirementItem, SpecDocument, Task, TicketTrace } from '../api/types';
import { renderMarkdown } from '../lib/markdown';
import { Link } from '../lib/router';
import { splitRequirements, withoutTitle } from '../lib/spec-body';
import { taskStatus } from '../status/status-vocabulary';
import type { ValidationResult } from '../timeline/timeline-reducer';
import { DependencyGraph } from './DependencyGraph';
import { Empty, StatusBadge } from './States';
import { ValidationIssues } from './ValidationIssues';

export const TABS = ['Requirements', 'Design', 'Tasks', 'Validation'] as const;
export type Tab = (typeof TABS)[number];

type TraceItem = TicketTrace['requirements'][number];

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

function specId(doc: SpecDocument): string {
  return doc.spec_id ?? text(doc.frontmatter?.id) ?? doc.path;
}

export function dependsOn(doc: SpecDocument): string[] {
  const deps = doc.frontmatter?.dependencies as { depends_on?: unknown } | undefined;
  return strings(deps?.depends_on);
}

function byId(a: SpecDocument, b: SpecDocument): number {
  return specId(a).localeCompare(specId(b), undefined, { numeric: true });
}

function Markdown({ source }: { source: string }) {
  // renderMarkdown escapes every raw HTML token, so the result is safe to insert.
  // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitised by renderMarkdown
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(source) }} />;
}

function TraceLine({ trace }: { trace: TraceItem }) {
  const tasks = trace.tasks.map((t) => t.spec_task_id ?? t.title).join(', ');
  return (
    <p className="trace small">
      <StatusBadge status={trace.status} />{' '}
      {tasks ? (
        <span className="muted">covered by {tasks}</span>
      ) : (
        <span className="muted">no task covers it</span>
      )}
    </p>
  );
}

function Requirement({ item, trace }: { item: RequirementItem; trace?: TraceItem }) {
  return (
    <li className="requirement" data-id={item.id}>
      <h4>
        <code>{item.id}</code> {item.title}
      </h4>
      {trace ? <TraceLine trace={trace} /> : null}
      {item.ears ? <p className="ears">{item.ears}</p> : <p className="error">No EARS statement</p>}
      <ul className="criteria" aria-label={`Acceptance criteria of ${item.id}`}>
        {item.criteria.map((c) => (
          <li key={c.text} className={c.done ? 'done' : ''}>
            <span aria-hidden="true">{c.done ? '☑' : '☐'}</span> {c.text}
          </li>
        ))}
      </ul>
    </li>
  );
}

/** A requirements document whole: its prose in order, each item in place with its trace status. */
function RequirementsDocument({ doc, trace }: { doc: SpecDocument; trace: Map<string, TraceItem> }) {
  // consecutive items share one list; prose is keyed by the item it follows (ids are unique)
  const blocks: (
    | { kind: 'prose'; key: string; source: string }
    | { kind: 'items'; key: string; items: RequirementItem[] }
  )[] = [];
  let after = 'start';
  for (const segment of splitRequirements(withoutTitle(doc.body ?? '', doc.title), doc.items ?? [])) {
    const last = blocks[blocks.length - 1];
    if (segment.kind === 'markdown')
      blocks.push({ kind: 'prose', key: `prose-${after}`, source: segment.source });
    else if (last?.kind === 'items') last.items.push(segment.item);
    else blocks.push({ kind: 'items', key: `items-${segment.item.id}`, items: [segment.item] });
    if (segment.kind === 'item') after = segment.item.id;
  }
  return (
    <>
      {blocks.map((block) =>
        block.kind === 'prose' ? (
          <Markdown key={block.key} source={block.source} />
        ) : (
          <ol key={block.key} className="requirements">
            {block.items.map((item) => (
              <Requirement key={item.id} item={item} trace={trace.get(item.id)} />
            ))}
          </ol>
        ),
      )}
    </>
  );
}

function RequirementsTab({ docs, trace }: { docs: SpecDocument[]; trace: TicketTrace | null }) {
  const traced = new Map((trace?.requirements ?? []).map((r) => [r.id, r]));
  const requirements = docs.filter((d) => d.kind === 'requirements').sort(byId);
  const prds = docs.filter((d) => d.kind === 'prd').sort(byId);
  if (requirements.length === 0 && prds.length === 0) return <Empty>No requirements yet.</Empty>;
  return (
    <div>
      {prds.map((doc) => (
        <details key={doc.path} className="doc">
          <summary>
            <code>{specId(doc)}</code> {doc.title}
          </summary>
          <Markdown source={doc.body ?? ''} />
        </details>
      ))}
      {requirements.map((doc) => (
        <section key={doc.path} className="doc">
          <h3>
            {doc.title ?? specId(doc)} <span className="muted">{specId(doc)}</span>
          </h3>
          <RequirementsDocument doc={doc} trace={traced} />
        </section>
      ))}
    </div>
  );
}

function DesignTab({ docs }: { docs: SpecDocument[] }) {
  const designs = docs.filter((d) => d.kind === 'design').sort(byId);
  if (designs.length === 0) return <Empty>No design yet.</Empty>;
  return (
    <div>
      {designs.map((doc) => (
        <section key={doc.path} className="doc">
          <h3>
            {doc.title ?? specId(doc)} <span className="muted">{specId(doc)}</span>
          </h3>
          <Markdown source={withoutTitle(doc.body ?? '', doc.title)} />
        </section>
      ))}
    </div>
  );
}

function TasksTab({
  docs,
  runs,
  ticketRef,
  onOpenTask,
}: {
  docs: SpecDocument[];
  runs: Task[];
  ticketRef: string | null;
  onOpenTask?: (specId: string) => void;
}) {
  const tickets = docs.filter((d) => d.kind === 'ticket').sort(byId);
  const tasks = docs.filter((d) => d.kind === 'task').sort(byId);
  if (tasks.length === 0 && tickets.length === 0) return <Empty>No tasks yet.</Empty>;
  const runOf = new Map(runs.filter((r) => r.spec_task_id).map((r) => [r.spec_task_id!, r]));
  // once approved, a task's live state is its run's; before, what its file says
  const statusOf = (doc: SpecDocument) => {
    const run = runOf.get(specId(doc));
    return run ? taskStatus(run) : text(doc.frontmatter?.status) || doc.status || '';
  };
  return (
    <div>
      {tickets.map((doc) => (
        <p key={doc.path} className="spec-ticket" id={`spec-ticket-${specId(doc)}`}>
          <code>{specId(doc)}</code> {doc.title}{' '}
          <span className="muted">
            {text(doc.frontmatter?.priority)} · estimate {text(doc.frontmatter?.estimate) || '—'}
            {ticketRef ? (
              <>
                {' '}
                · the spec of platform ticket <Link to={`/tickets/${ticketRef}`}>{ticketRef}</Link>
              </>
            ) : null}
          </span>
        </p>
      ))}
      <DependencyGraph
        tasks={tasks.map((doc) => ({
          id: specId(doc),
          title: doc.title ?? '',
          status: statusOf(doc) || undefined,
          dependsOn: dependsOn(doc),
        }))}
        onSelect={onOpenTask}
      />
      <div className="table-scroll">
        <table className="tasks">
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Status</th>
              <th scope="col">Estimate</th>
              <th scope="col">Depends on</th>
            </tr>
          </thead>
          <tbody>
            {tasks.map((doc) => (
              <tr key={doc.path}>
                <td>
                  {onOpenTask ? (
                    <button type="button" className="link" onClick={() => onOpenTask(specId(doc))}>
                      <code>{specId(doc)}</code> {doc.title}
                    </button>
                  ) : (
                    <>
                      <code>{specId(doc)}</code> {doc.title}
                    </>
                  )}
                </td>
                <td>
                  <StatusBadge status={statusOf(doc)} />
                </td>
                <td>{text(doc.frontmatter?.estimate) || '—'}</td>
                <td>{dependsOn(doc).join(', ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function ValidationTab({ validation }: { validation: ValidationResult | null }) {
  if (!validation) return <Empty>The spec has not been validated yet.</Empty>;
  return (
    <div>
      <p className={validation.passed ? 'ok' : 'error'}>
        <strong>Spec validation {validation.passed ? 'PASSED' : 'FAILED'}</strong>
        {validation.attempt ? ` on attempt ${validation.attempt}` : ''}
      </p>
      {validation.issues.length === 0 ? (
        <p className="muted">No issues.</p>
      ) : (
        <ValidationIssues issues={validation.issues} />
      )}
    </div>
  );
}

/** Requirements / Design / Tasks / Validation of one ticket's spec, as accessible tabs. */
export function SpecTabs({
  docs,
  validation,
  runs = [],
  trace = null,
  ticketRef = null,
  onOpenTask,
  tab: shownTab,
  onTabChange,
}: {
  docs: SpecDocument[];
  validation: ValidationResult | null;
  /** The ticket's platform tasks: their live status and delivery replace the spec file's status. */
  runs?: Task[];
  /** The requirements' trace (null while the server has no trace route). */
  trace?: TicketTrace | null;
  /** The platform ticket's ref, linked from the spec ticket. */
  ticketRef?: string | null;
  onOpenTask?: (specId: string) => void;
  /** Controlled tab, for the page header's link to the spec ticket. */
  tab?: Tab;
  onTabChange?: (tab: Tab) => void;
}) {
  const [ownTab, setOwnTab] = useState<Tab>('Requirements');
  const tab = shownTab ?? ownTab;
  const setTab = (next: Tab) => {
    setOwnTab(next);
    onTabChange?.(next);
  };
  const id = useId();
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = TABS[(TABS.indexOf(tab) + step + TABS.length) % TABS.length]!;
    setTab(next);
    document.getElementById(`${id}-${next}`)?.focus();
  };
  return (
    <section className="card spec-tabs" aria-label="Spec">
      <div role="tablist" aria-label="Spec views" className="tabs" onKeyDown={onKeyDown}>
        {TABS.map((name) => (
          <button
            key={name}
            id={`${id}-${name}`}
            type="button"
            role="tab"
            aria-selected={tab === name}
            aria-controls={`${id}-panel`}
            tabIndex={tab === name ? 0 : -1}
            onClick={() => setTab(name)}
          >
            {name}
          </button>
        ))}
      </div>
      <div id={`${id}-panel`} role="tabpanel" aria-labelledby={`${id}-${tab}`} className="tab-panel">
        {tab === 'Requirements' ? <RequirementsTab docs={docs} trace={trace} /> : null}
        {tab === 'Design' ? <DesignTab docs={docs} /> : null}
        {tab === 'Tasks' ? (
          <TasksTab docs={docs} runs={runs} ticketRef={ticketRef} onOpenTask={onOpenTask} />
        ) : null}
        {tab === 'Validation' ? <ValidationTab validation={validation} /> : null}
      </div>
    </section>
  );
}
