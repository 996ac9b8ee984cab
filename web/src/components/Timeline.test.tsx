// @vitest-environment happy-dom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OmoiEvent, Task } from '../api/types';
import {
  groupByTask,
  initialTimeline,
  type TimelineState,
  timelineReducer,
} from '../timeline/timeline-reducer';
import { Timeline } from './Timeline';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const ev = (id: number, type: string, taskId: string | null, data: Record<string, unknown> = {}): OmoiEvent =>
  ({
    id,
    type,
    ts: '2026-01-01T00:00:00Z',
    project_id: 'p',
    ticket_id: 't',
    task_id: taskId,
    data,
  }) as OmoiEvent;

const task = (id: string, specTaskId: string | null, status: Task['status'], result: unknown = null): Task =>
  ({
    id,
    project_id: 'p',
    ticket_id: 't',
    title: specTaskId ? `${specTaskId}: Build it` : 'Plan the spec',
    description: '',
    task_type: specTaskId ? 'implementation' : 'spec',
    execution_mode: 'implementation',
    execution_config: { require_spec_skill: false },
    status,
    priority: 'MEDIUM',
    branch: null,
    spec_task_id: specTaskId,
    claimed_by: null,
    lease_until: null,
    attempts: 1,
    max_attempts: 3,
    run_after: null,
    started_at: null,
    finished_at: null,
    result,
    error: null,
    depends_on: [],
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  }) as Task;

const tasks = [
  task('spec', null, 'completed'),
  task('a', 'TSK-001', 'completed'),
  task('b', 'TSK-002', 'running'),
  task('c', 'TSK-003', 'completed', { ok: true, branch: 'omoi/x', commit: null, plan_only: true }),
];

// two tasks running at once interleave their events, as after a real approval
const events = [
  ev(1, 'ticket.created', null),
  ev(2, 'task.claimed', 'spec'),
  ev(3, 'task.completed', 'spec'),
  ev(4, 'ticket.approved', null, { tasks: ['a', 'b', 'c'] }),
  ev(5, 'task.claimed', 'a'),
  ev(6, 'task.claimed', 'b'),
  ev(7, 'git.pushed', 'a', { branch: 'omoi/TKT-001-TSK-001', commit: 'abcdef1234567' }),
  ev(8, 'sandbox.log', 'b', { text: 'installing' }),
  ev(9, 'task.completed', 'a'),
  ev(10, 'worker.started', 'b', { runtime: 'offline' }),
  ev(11, 'sandbox.log', 'b', { text: 'still installing' }),
  ev(12, 'task.claimed', 'c'),
  ev(13, 'task.completed', 'c'),
];

describe('groupByTask', () => {
  it('gathers interleaved events per task, in the order the tasks started, with each one’s current step', () => {
    const groups = groupByTask(events, tasks);
    expect(groups.map((g) => g.key)).toEqual(['ticket', 'spec', 'a', 'b', 'c']);
    expect(groups.map((g) => g.events.map((e) => e.id))).toEqual([
      [1, 4],
      [2, 3],
      [5, 7, 9],
      [6, 8, 10, 11],
      [12, 13],
    ]);
    // the step a task is at is its latest event that is not a log line
    expect(groups.find((g) => g.key === 'b')!.current).toBe('Worker started');
    expect(groups.find((g) => g.key === 'a')!.current).toBe('Task completed');
    expect(groups[0]!.task).toBeNull();
  });

  it('keeps the events of a task it does not know, under that task’s id', () => {
    const groups = groupByTask([ev(1, 'task.claimed', 'zzz')], []);
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ key: 'zzz', task: null, current: 'Task claimed' });
  });
});

describe('Timeline', () => {
  let root: Root;
  let host: HTMLElement;
  beforeEach(() => {
    host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
  });
  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });
  const show = (list: OmoiEvent[]) => {
    const state: TimelineState = timelineReducer(initialTimeline, { type: 'received', events: list });
    act(() => root.render(<Timeline state={state} tasks={tasks} />));
  };

  it('after approval shows one collapsible group per task: finished ones folded, the running one open', () => {
    show(events);
    const groups = [...host.querySelectorAll<HTMLElement>('.task-group')];
    expect(groups.map((g) => g.dataset.task)).toEqual(['ticket', 'spec', 'a', 'b', 'c']);
    const summary = (key: string) =>
      host.querySelector(`.task-group[data-task="${key}"] summary`)!.textContent;
    expect(summary('a')).toContain('TSK-001 Build it');
    expect(summary('a')).not.toContain('TSK-001: Build');
    expect(summary('a')).toContain('done');
    expect(summary('b')).toContain('running');
    expect(summary('b')).toContain('Worker started · 4 events');
    expect(summary('c')).toContain('plan only (no model)');
    expect(summary('spec')).toContain('Spec run: Plan the spec');
    const open = (key: string) =>
      host.querySelector<HTMLDetailsElement>(`.task-group[data-task="${key}"] > details`)!.open;
    expect([open('ticket'), open('spec'), open('a'), open('b'), open('c')]).toEqual([
      true,
      false,
      false,
      true,
      false,
    ]);
    // every event is shown once, inside its group
    const shown = groups.flatMap((g) => g.dataset.eventIds!.split(' ').map(Number));
    expect(shown.sort((x, y) => x - y)).toEqual(events.map((e) => e.id));
    // the running task's two log lines around its start stay in its own group
    expect(host.querySelector('.task-group[data-task="b"] .log summary')?.textContent).toContain('1 line');
  });

  it('before approval keeps one list in event order', () => {
    show(events.slice(0, 3));
    expect(host.querySelector('.task-group')).toBeNull();
    expect(
      [...host.querySelectorAll('ol.events > li')].map((li) => li.getAttribute('data-event-ids')),
    ).toEqual(['1', '2', '3']);
  });
});
