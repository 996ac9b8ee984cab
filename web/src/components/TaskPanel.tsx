import { useEffect, useRef } from 'react';
import type { Question, RequirementItem, SpecDocument, Task } from '../api/types';
import { renderMarkdown } from '../lib/markdown';
import { sections, withoutTitle } from '../lib/spec-body';
import { taskStatus } from '../status/status-vocabulary';
import { DeliveryFacts, DiffView } from './Delivery';
import { StatusBadge } from './States';

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

function Markdown({ source }: { source: string }) {
  // renderMarkdown escapes every raw HTML token, so the result is safe to insert.
  // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitised by renderMarkdown
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(source) }} />;
}

const OBJECTIVE = /^(objective|description|summary)$/i;
const CRITERIA = /^acceptance criteria$/i;

/** A spec task's frontmatter lists, read defensively (a worker wrote the file). */
export function taskLinks(doc: SpecDocument | null): {
  requirements: string[];
  dependsOn: string[];
  blocks: string[];
} {
  const deps = doc?.frontmatter?.dependencies as { depends_on?: unknown; blocks?: unknown } | undefined;
  return {
    requirements: strings(doc?.frontmatter?.requirements),
    dependsOn: strings(deps?.depends_on),
    blocks: strings(deps?.blocks),
  };
}

function IdList({
  ids,
  onOpen,
  titleFor,
}: {
  ids: string[];
  onOpen?: (id: string) => void;
  titleFor?: (id: string) => string | undefined;
}) {
  if (ids.length === 0) return <p className="muted">None.</p>;
  return (
    <ul className="id-list">
      {ids.map((id) => (
        <li key={id}>
          {onOpen ? (
            <button type="button" className="link" onClick={() => onOpen(id)}>
              <code>{id}</code>
            </button>
          ) : (
            <code>{id}</code>
          )}{' '}
          {titleFor?.(id) ?? ''}
        </li>
      ))}
    </ul>
  );
}

/**
 * One task opened from the Tasks tab, the graph or the runs table: what it must do (objective,
 * acceptance criteria), which requirements it covers, what it waits for, and once it ran, its
 * branch, changes, evidence and diff. A side drawer at 1280 px, the full width at 390 px.
 */
export function TaskPanel({
  doc,
  run,
  requirements,
  titleOf,
  question = null,
  onOpen,
  onClose,
}: {
  doc: SpecDocument | null;
  run: Task | null;
  requirements: RequirementItem[];
  titleOf: (specId: string) => string | undefined;
  /** The run's open question: the panel says what it waits for and leads to the question's card. */
  question?: Question | null;
  onOpen: (specId: string) => void;
  onClose: () => void;
}) {
  const closeRef = useRef<HTMLButtonElement>(null);
  const id = doc?.spec_id ?? run?.spec_task_id ?? null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: focus moves when another task opens
  useEffect(() => closeRef.current?.focus(), [id, run?.id]);
  const title = doc?.title ?? run?.title ?? '';
  const status = run
    ? taskStatus(run)
    : typeof doc?.frontmatter?.status === 'string'
      ? doc.frontmatter.status
      : doc?.status;
  const parts = sections(withoutTitle(doc?.body ?? '', doc?.title ?? null));
  const objective = parts.filter((s) => OBJECTIVE.test(s.name) || s.name === '');
  const criteria = parts.filter((s) => CRITERIA.test(s.name));
  const rest = parts.filter((s) => s.name !== '' && !OBJECTIVE.test(s.name) && !CRITERIA.test(s.name));
  const links = taskLinks(doc);
  const items = new Map(requirements.map((item) => [item.id, item.title]));
  const label = `Task ${id ?? ''} ${title}`.trim();
  return (
    <aside
      className="task-panel card"
      role="dialog"
      aria-label={label}
      onKeyDown={(e) => e.key === 'Escape' && onClose()}
    >
      <header className="task-panel-head">
        <div>
          <p className="muted small">
            {id ? <code>{id}</code> : null} <StatusBadge status={status} />
          </p>
          <h2>{title}</h2>
        </div>
        <button type="button" ref={closeRef} onClick={onClose} aria-label="Close the task">
          ✕
        </button>
      </header>
      {question ? (
        <section className="panel-question" aria-label="Question waiting">
          <h3>Waiting for your answer</h3>
          <p className="question-text">{question.question}</p>
          <button
            type="button"
            onClick={() => {
              onClose();
              // the card lives on the page under this panel: its answer box takes the focus
              const card = document.querySelector<HTMLElement>(`[data-question="${question.id}"]`);
              card?.scrollIntoView({ block: 'center' });
              (
                card?.querySelector<HTMLElement>('textarea') ?? card?.querySelector<HTMLElement>('button')
              )?.focus();
            }}
          >
            Answer it
          </button>
        </section>
      ) : null}
      {doc ? (
        <>
          <section aria-label="Objective">
            <h3>Objective</h3>
            {objective.length ? (
              objective.map((s) => <Markdown key={s.name || 'intro'} source={s.source} />)
            ) : (
              <p className="muted">The task file has no objective.</p>
            )}
          </section>
          <section aria-label="Acceptance criteria">
            <h3>Acceptance criteria</h3>
            {criteria.length ? (
              criteria.map((s) => <Markdown key={s.name} source={s.source} />)
            ) : (
              <p className="muted">None written.</p>
            )}
          </section>
          <section aria-label="Requirements covered">
            <h3>Requirements covered</h3>
            <IdList ids={links.requirements} titleFor={(rid) => items.get(rid)} />
          </section>
          <section aria-label="Dependencies">
            <h3>Depends on</h3>
            <IdList ids={links.dependsOn} onOpen={onOpen} titleFor={titleOf} />
            {links.blocks.length ? (
              <>
                <h3>Before</h3>
                <IdList ids={links.blocks} onOpen={onOpen} titleFor={titleOf} />
              </>
            ) : null}
          </section>
          {rest.map((s) => (
            <details key={s.name} className="doc">
              <summary>{s.name}</summary>
              <Markdown source={s.source} />
            </details>
          ))}
        </>
      ) : run?.description ? (
        <section aria-label="Objective">
          <h3>Objective</h3>
          <Markdown source={run.description} />
        </section>
      ) : null}
      <section aria-label="Delivery">
        <h3>Delivery</h3>
        {run ? (
          <>
            <DeliveryFacts result={run.result} branch={run.branch} />
            {run.error ? <p className="error small">{run.error}</p> : null}
            {run.branch || run.result ? <DiffView key={run.id} taskId={run.id} /> : null}
          </>
        ) : (
          <p className="muted">Not started: the task runs after the spec is approved.</p>
        )}
      </section>
    </aside>
  );
}
