// @vitest-environment happy-dom
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { describe, expect, it } from 'vitest';
import { TASK_STATUSES, TICKET_STATUSES } from '../api/types';
import { StatusBadge } from '../components/States';
import { isKnownStatus, runTitle, statusView, taskStatus } from './status-vocabulary';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const TRACE = ['verified', 'unverified', 'failing', 'not_started'];
const SPEC = ['pending', 'in_progress', 'done', 'blocked', 'draft', 'review', 'approved'];

function badge(status: string): HTMLElement {
  const host = document.createElement('div');
  const root = createRoot(host);
  act(() => root.render(<StatusBadge status={status} />));
  const span = host.querySelector<HTMLElement>('.badge.status')!;
  act(() => root.unmount());
  return span;
}

describe('the status vocabulary', () => {
  it("reads a run's completed and a spec's done as one word in one colour", () => {
    expect(statusView('completed')).toEqual(statusView('done'));
    expect(statusView('completed')).toEqual({ key: 'done', label: 'done', tone: 'ok' });
    const a = badge('completed');
    const b = badge('done');
    expect(a.className).toBe(b.className);
    expect(a.textContent).toBe('done');
  });

  it('gives every platform, spec and trace status a label without underscores and a known tone', () => {
    for (const status of [...TICKET_STATUSES, ...TASK_STATUSES, ...SPEC, ...TRACE]) {
      const view = statusView(status);
      expect(view.label, status).not.toMatch(/_/);
      expect(view.tone, status).toMatch(/^(neutral|active|attention|ask|ok|warn|bad|muted)$/);
      expect(isKnownStatus(status), status).toBe(true);
    }
    expect(statusView('in_progress').label).toBe('in progress');
    expect(statusView('awaiting_approval').label).toBe('awaiting approval');
    expect(statusView('not_started').label).toBe('not started');
  });

  it('keeps one colour per word: running work is active, failures bad, plan only a warning', () => {
    expect(
      new Set(['claimed', 'running', 'in_progress', 'analyzing', 'building'].map((s) => statusView(s).tone)),
    ).toEqual(new Set(['active']));
    expect(statusView('failed').tone).toBe('bad');
    expect(statusView('failing').tone).toBe('bad');
    expect(statusView('plan_only')).toEqual({
      key: 'plan_only',
      label: 'plan only (no model)',
      tone: 'warn',
    });
    expect(badge('failed').className).toContain('st-bad');
    expect(badge('plan_only').className).not.toContain('st-bad');
  });

  it("says a parked run needs the person's answer, in a colour no other status has", () => {
    expect(statusView('awaiting_input')).toEqual({
      key: 'awaiting_input',
      label: 'needs your answer',
      tone: 'ask',
    });
    const others = [...TICKET_STATUSES, ...TASK_STATUSES, ...SPEC, ...TRACE].filter(
      (s) => s !== 'awaiting_input',
    );
    expect(others.map((s) => statusView(s).tone)).not.toContain('ask');
    expect(badge('awaiting_input').className).toContain('st-ask');
    expect(badge('awaiting_input').textContent).toBe('needs your answer');
  });

  it('shows an unknown word as itself, and nothing as a dash', () => {
    expect(isKnownStatus('needs_triage')).toBe(false);
    expect(statusView('Needs_Triage')).toEqual({
      key: 'needs_triage',
      label: 'needs triage',
      tone: 'neutral',
    });
    expect(statusView(null).label).toBe('—');
    expect(badge('').textContent).toBe('—');
  });

  it('says plan only for a run whose result is plan only, whatever its status', () => {
    expect(
      taskStatus({ status: 'completed', result: { ok: true, branch: 'b', commit: null, plan_only: true } }),
    ).toBe('plan_only');
    expect(taskStatus({ status: 'failed', result: { plan_only: true } })).toBe('plan_only');
    expect(taskStatus({ status: 'completed', result: { ok: true, branch: 'b', commit: 'c' } })).toBe(
      'completed',
    );
    expect(taskStatus({ status: 'running', result: null })).toBe('running');
  });

  it('names a run without repeating its spec task id', () => {
    expect(runTitle({ title: 'TSK-CSV-001: Lay out the module', spec_task_id: 'TSK-CSV-001' })).toBe(
      'Lay out the module',
    );
    expect(runTitle({ title: 'Lay out the module', spec_task_id: 'TSK-CSV-001' })).toBe('Lay out the module');
    expect(runTitle({ title: 'Write the spec for TKT-001', spec_task_id: null })).toBe(
      'Write the spec for TKT-001',
    );
  });
});
