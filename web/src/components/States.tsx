import type { ReactNode } from 'react';
import { ApiError } from '../api/client';
import { statusView } from '../status/status-vocabulary';

export function Loading({ what }: { what: string }) {
  return (
    <p className="state loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state empty">{children}</div>;
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError)
    return error.code.startsWith('HTTP_') ? error.message : `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <p>{errorMessage(error)}</p>
      {retry ? (
        <button type="button" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

const MODE_LABEL: Record<string, string> = { quick: 'Quick', spec_driven: 'Spec-Driven' };

export function ModeBadge({ mode }: { mode: string }) {
  return <span className={`badge mode-${mode}`}>{MODE_LABEL[mode] ?? mode}</span>;
}

/** Any status word (a ticket's, a run's, a spec file's, a requirement's trace) in its one colour. */
export function StatusBadge({ status, title }: { status: string | null | undefined; title?: string }) {
  const view = statusView(status);
  return (
    <span className={`badge status status-${view.key} st-${view.tone}`} title={title}>
      {view.label}
    </span>
  );
}

/** Which agent runtime runs (or will run) the work: `offline (no model)`, `claude`, `openai: <model>`. */
export function RuntimeBadge({ runtime }: { runtime: string | null | undefined }) {
  if (!runtime) return null;
  return (
    <span
      className={`badge runtime${runtime.startsWith('offline') ? ' runtime-offline' : ''}`}
      title="Agent runtime"
    >
      {runtime}
    </span>
  );
}
