import { type FormEvent, type KeyboardEvent, useId, useState } from 'react';
import type { WorkflowMode } from '../api/types';

/** The words of each mode, exactly as issue 6 gives them. */
export const WORKFLOW_MODES: Record<
  WorkflowMode,
  { label: string; tagline: string; placeholder: string; helper: string; button: string }
> = {
  quick: {
    label: 'Quick',
    tagline: 'Immediate implementation',
    placeholder: 'Describe what you want to build…',
    helper: 'An agent starts implementing right away',
    button: 'Launch',
  },
  spec_driven: {
    label: 'Spec-Driven',
    tagline: 'Plan first, then build',
    placeholder: 'Describe the feature to plan…',
    helper: 'Requirements, design and tasks are generated for your approval',
    button: 'Create Spec',
  },
};

/** Where the chosen mode is remembered between visits. */
export const MODE_STORAGE_KEY = 'omoi.workflow-mode';

export function readStoredMode(): WorkflowMode {
  try {
    const value = window.localStorage.getItem(MODE_STORAGE_KEY);
    return value === 'spec_driven' || value === 'quick' ? value : 'quick';
  } catch {
    return 'quick'; // storage can be disabled (private mode, policies): the default still works
  }
}

function storeMode(mode: WorkflowMode): void {
  try {
    window.localStorage.setItem(MODE_STORAGE_KEY, mode);
  } catch {
    // not remembered this time; nothing else depends on it
  }
}

export interface WorkflowModeSelectorProps {
  onSubmit: (input: { mode: WorkflowMode; prompt: string }) => void;
  /** A submission is in flight: the button shows it and repeated submits are ignored. */
  busy?: boolean;
  /** Why submitting is not possible yet (no project chosen, …); shown under the button. */
  blockedReason?: string | null;
  error?: string | null;
}

/**
 * Picks Quick or Spec-Driven and takes the prompt. Submits with the button or Ctrl/Cmd+Enter.
 *
 * @example
 * <WorkflowModeSelector onSubmit={({ mode, prompt }) => create(mode, prompt)} />
 */
export function WorkflowModeSelector({
  onSubmit,
  busy = false,
  blockedReason,
  error,
}: WorkflowModeSelectorProps) {
  const [mode, setMode] = useState<WorkflowMode>(readStoredMode);
  const [prompt, setPrompt] = useState('');
  const id = useId();
  const words = WORKFLOW_MODES[mode];
  const canSubmit = prompt.trim() !== '' && !busy && !blockedReason;

  const choose = (next: WorkflowMode) => {
    setMode(next);
    storeMode(next);
  };
  const submit = () => {
    if (canSubmit) onSubmit({ mode, prompt: prompt.trim() });
  };
  const onFormSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <form className="mode-selector" onSubmit={onFormSubmit} aria-label="New ticket">
      <fieldset className="mode-options">
        <legend>Workflow mode</legend>
        {(Object.keys(WORKFLOW_MODES) as WorkflowMode[]).map((key) => (
          <label key={key} className={`mode-option${key === mode ? ' selected' : ''}`} data-mode={key}>
            <input
              type="radio"
              name={`${id}-mode`}
              value={key}
              checked={key === mode}
              onChange={() => choose(key)}
            />
            <span className="mode-label">{WORKFLOW_MODES[key].label}</span>
            <span className="mode-tagline">{WORKFLOW_MODES[key].tagline}</span>
          </label>
        ))}
      </fieldset>
      <label className="visually-hidden" htmlFor={`${id}-prompt`}>
        Prompt
      </label>
      <textarea
        id={`${id}-prompt`}
        className="prompt"
        placeholder={words.placeholder}
        value={prompt}
        onChange={(event) => setPrompt(event.target.value)}
        onKeyDown={onKeyDown}
        rows={5}
        aria-describedby={`${id}-helper`}
      />
      <p id={`${id}-helper`} className="helper">
        {words.helper}
      </p>
      <div className="mode-actions">
        <span className="hint">Ctrl/⌘ + Enter</span>
        <button type="submit" className="primary" disabled={!canSubmit} aria-busy={busy}>
          {busy ? 'Submitting…' : words.button}
        </button>
      </div>
      {blockedReason ? <p className="muted">{blockedReason}</p> : null}
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}
