// @vitest-environment happy-dom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MODE_STORAGE_KEY,
  WorkflowModeSelector,
  type WorkflowModeSelectorProps,
} from './WorkflowModeSelector';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let root: Root;
let host: HTMLElement;

function render(props: Partial<WorkflowModeSelectorProps> = {}) {
  const onSubmit = vi.fn();
  act(() => root.render(<WorkflowModeSelector onSubmit={onSubmit} {...props} />));
  return onSubmit;
}

const textarea = () => host.querySelector('textarea')!;
const submitButton = () => host.querySelector<HTMLButtonElement>('button[type="submit"]')!;
const radio = (mode: string) => host.querySelector<HTMLInputElement>(`input[type="radio"][value="${mode}"]`)!;
const helper = () => host.querySelector('.helper')!.textContent;

/** Types as a person would: React listens for native input events carrying the new value. */
function type(text: string) {
  act(() => {
    const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
    setter.call(textarea(), text);
    textarea().dispatchEvent(new Event('input', { bubbles: true }));
  });
}

function press(key: string, init: KeyboardEventInit = {}) {
  act(() => {
    textarea().dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init }));
  });
}

beforeEach(() => {
  window.localStorage.clear();
  host = document.createElement('div');
  document.body.append(host);
  root = createRoot(host);
});

afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

describe('WorkflowModeSelector', () => {
  it('shows the Quick words by default', () => {
    render();
    expect(radio('quick').checked).toBe(true);
    expect(host.textContent).toContain('Quick');
    expect(host.textContent).toContain('Immediate implementation');
    expect(host.textContent).toContain('Spec-Driven');
    expect(host.textContent).toContain('Plan first, then build');
    expect(textarea().placeholder).toBe('Describe what you want to build…');
    expect(helper()).toBe('An agent starts implementing right away');
    expect(submitButton().textContent).toBe('Launch');
  });

  it('switches every word to Spec-Driven and remembers the choice', () => {
    render();
    act(() => radio('spec_driven').click());
    expect(radio('spec_driven').checked).toBe(true);
    expect(textarea().placeholder).toBe('Describe the feature to plan…');
    expect(helper()).toBe('Requirements, design and tasks are generated for your approval');
    expect(submitButton().textContent).toBe('Create Spec');
    expect(window.localStorage.getItem(MODE_STORAGE_KEY)).toBe('spec_driven');

    // a new visit starts in the remembered mode
    act(() => root.unmount());
    root = createRoot(host);
    render();
    expect(radio('spec_driven').checked).toBe(true);
    expect(submitButton().textContent).toBe('Create Spec');
  });

  it('ignores a stored value that is not a mode', () => {
    window.localStorage.setItem(MODE_STORAGE_KEY, 'yolo');
    render();
    expect(radio('quick').checked).toBe(true);
  });

  it('submits the trimmed prompt and the mode with the button', () => {
    const onSubmit = render();
    expect(submitButton().disabled).toBe(true);
    type('   ');
    expect(submitButton().disabled).toBe(true);
    type('  Add a dark mode toggle  ');
    expect(submitButton().disabled).toBe(false);
    act(() => submitButton().click());
    expect(onSubmit).toHaveBeenCalledTimes(1);
    expect(onSubmit).toHaveBeenCalledWith({ mode: 'quick', prompt: 'Add a dark mode toggle' });
  });

  it('submits with Ctrl+Enter and Cmd+Enter, not with a plain Enter', () => {
    const onSubmit = render();
    act(() => radio('spec_driven').click());
    type('Plan a CSV export');
    press('Enter');
    expect(onSubmit).not.toHaveBeenCalled();
    press('Enter', { ctrlKey: true });
    expect(onSubmit).toHaveBeenLastCalledWith({ mode: 'spec_driven', prompt: 'Plan a CSV export' });
    press('Enter', { metaKey: true });
    expect(onSubmit).toHaveBeenCalledTimes(2);
  });

  it('does not submit while busy or blocked, and says why', () => {
    const whileBusy = render({ busy: true });
    type('Something');
    press('Enter', { ctrlKey: true });
    act(() => submitButton().click());
    expect(submitButton().disabled).toBe(true);
    expect(submitButton().getAttribute('aria-busy')).toBe('true');
    expect(whileBusy).not.toHaveBeenCalled();
    // each render passes a new onSubmit: the blocked form is checked on its own, not on the busy one's
    const whileBlocked = render({ blockedReason: 'Choose or add a project first.' });
    expect(textarea().value).toBe('Something');
    press('Enter', { ctrlKey: true });
    act(() => submitButton().click());
    expect(whileBlocked).not.toHaveBeenCalled();
    expect(host.textContent).toContain('Choose or add a project first.');
    // the same form, unblocked, submits: the two refusals above were the props', not a dead form
    const unblocked = render();
    press('Enter', { ctrlKey: true });
    expect(unblocked).toHaveBeenCalledWith({ mode: 'quick', prompt: 'Something' });
  });

  it('shows an error as an alert', () => {
    render({ error: 'workflow_mode must be quick or spec_driven (VALIDATION_FAILED)' });
    expect(host.querySelector('[role="alert"]')?.textContent).toContain('VALIDATION_FAILED');
  });
});
