import { type KeyboardEvent, useId, useState } from 'react';
import type { RequirementItem, SpecDocument } from '../api/types';
import { renderMarkdown } from '../lib/markdown';
import type { ValidationResult } from '../timeline/timeline-reducer';
import { DependencyGraph } from './DependencyGraph';
import { Empty } from './States';
import { ValidationIssues } from './ValidationIssues';

const TABS = ['Requirements', 'Design', 'Tasks', 'Validation'] as const;
type Tab = (typeof TABS)[number];

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

function Requirement({ item }: { item: RequirementItem }) {
  return (
    <li className="requirement">
      <h4>
        <code>{item.id}</code> {item.title}
      </h4>
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

function RequirementsTab({ docs }: { docs: SpecDocument[] }) {
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
          {doc.items && doc.items.length > 0 ? (
            <ol className="requirements">
              {doc.items.map((item) => (
                <Requirement key={item.id} item={item} />
              ))}
            </ol>
          ) : (
            <Markdown source={doc.body ?? ''} />
          )}
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
          <Markdown source={doc.body ?? ''} />
        </section>
      ))}
    </div>
  );
}

function TasksTab({ docs }: { docs: SpecDocument[] }) {
  const tickets = docs.filter((d) => d.kind === 'ticket').sort(byId);
  const tasks = docs.filter((d) => d.kind === 'task').sort(byId);
  if (tasks.length === 0 && tickets.length === 0) return <Empty>No tasks yet.</Empty>;
  return (
    <div>
      {tickets.map((doc) => (
        <p key={doc.path} className="spec-ticket">
          <code>{specId(doc)}</code> {doc.title}{' '}
          <span className="muted">
            {text(doc.frontmatter?.priority)} · estimate {text(doc.frontmatter?.estimate) || '—'}
          </span>
        </p>
      ))}
      <DependencyGraph
        tasks={tasks.map((doc) => ({
          id: specId(doc),
          title: doc.title ?? '',
          status: text(doc.frontmatter?.status) || undefined,
          dependsOn: dependsOn(doc),
        }))}
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
                  <code>{specId(doc)}</code> {doc.title}
                </td>
                <td>{text(doc.frontmatter?.status) || doc.status || '—'}</td>
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
}: {
  docs: SpecDocument[];
  validation: ValidationResult | null;
}) {
  const [tab, setTab] = useState<Tab>('Requirements');
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
        {tab === 'Requirements' ? <RequirementsTab docs={docs} /> : null}
        {tab === 'Design' ? <DesignTab docs={docs} /> : null}
        {tab === 'Tasks' ? <TasksTab docs={docs} /> : null}
        {tab === 'Validation' ? <ValidationTab validation={validation} /> : null}
      </div>
    </section>
  );
}
