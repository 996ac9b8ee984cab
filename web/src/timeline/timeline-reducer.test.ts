import { describe, expect, it } from 'vitest';
import type { OmoiEvent } from '../api/types';
import {
  describeEvent,
  groupEntries,
  initialTimeline,
  summarize,
  type TimelineState,
  timelineReducer,
  toolSummary,
} from './timeline-reducer';

/** An event as it arrives over the wire; ids may come as strings (int8 from some drivers). */
const ev = (id: number | string, type: string, data: Record<string, unknown> = {}): OmoiEvent =>
  ({
    id,
    type,
    ts: '2026-01-01T00:00:00Z',
    project_id: 'p',
    ticket_id: 't',
    task_id: null,
    data,
  }) as unknown as OmoiEvent;

function receive(state: TimelineState, ...batches: OmoiEvent[][]): TimelineState {
  return batches.reduce((s, events) => timelineReducer(s, { type: 'received', events }), state);
}

const ids = (state: TimelineState) => state.events.map((e) => e.id);

describe('timelineReducer', () => {
  it('keeps events in id order, each once, and tracks the last id', () => {
    const state = receive(
      initialTimeline,
      [ev(2, 'task.claimed'), ev(1, 'task.created')],
      [ev(3, 'worker.started')],
    );
    expect(ids(state)).toEqual([1, 2, 3]);
    expect(state.lastId).toBe(3);
  });

  it('drops what a reconnect replays, so nothing is lost or repeated', () => {
    // first connection: 1..4, then the connection drops
    let state = receive(
      initialTimeline,
      [1, 2, 3, 4].map((i) => ev(i, 'agent.message', { text: `m${i}` })),
    );
    state = timelineReducer(state, { type: 'connection', status: 'reconnecting' });
    expect(state.connection).toBe('reconnecting');
    // a fresh stream replays the latest window (2..6) while the page load also returned 1..5
    state = receive(
      state,
      [2, 3, 4, 5, 6].map((i) => ev(i, 'agent.message', { text: `m${i}` })),
      [1, 2, 3, 4, 5].map((i) => ev(i, 'agent.message', { text: `m${i}` })),
    );
    state = timelineReducer(state, { type: 'connection', status: 'open' });
    expect(ids(state)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(state.events.map((e) => (e.type === 'agent.message' ? e.data.text : null))).toEqual([
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
      'm6',
    ]);
    expect(state.connection).toBe('open');
  });

  it('treats string ids (int8 from PostgreSQL) like numbers', () => {
    const state = receive(
      initialTimeline,
      [ev('10', 'task.claimed'), ev(9, 'task.created')],
      [ev(10, 'task.claimed')],
    );
    expect(ids(state)).toEqual([9, 10]);
    expect(state.lastId).toBe(10);
  });

  it('returns the same state when nothing new arrives', () => {
    const state = receive(initialTimeline, [ev(1, 'task.created')]);
    expect(timelineReducer(state, { type: 'received', events: [ev(1, 'task.created')] })).toBe(state);
    expect(timelineReducer(state, { type: 'received', events: [ev('nope', 'x')] })).toBe(state);
    expect(timelineReducer(state, { type: 'connection', status: 'connecting' })).toBe(state);
  });
});

describe('summarize', () => {
  it('follows a spec run from claim to completion', () => {
    const issues = [
      {
        level: 'error',
        code: 'EARS_MISSING',
        path: '.omoi_os/requirements/x.md',
        line: 7,
        message: 'no SHALL',
      },
    ];
    const events = [
      ev(1, 'task.created'),
      ev(2, 'task.claimed'),
      ev(3, 'spec.validation', { passed: false, attempt: 1, issues }),
      ev(4, 'spec.validation', { passed: true, attempt: 2, issues: [] }),
      ev(5, 'git.pushed', { branch: 'omoi/TKT-001', commit: 'abc123' }),
      ev(6, 'spec.synced', { created: 7, updated: 0, unchanged: 1 }),
      ev(7, 'task.completed'),
    ];
    expect(summarize(events.slice(0, 3))).toMatchObject({
      phase: 'running',
      validation: { passed: false, attempt: 1, issues: [{ code: 'EARS_MISSING', line: 7 }] },
    });
    expect(summarize(events)).toEqual({
      phase: 'completed',
      validation: { passed: true, attempt: 2, issues: [], eventId: 4 },
      pushed: { branch: 'omoi/TKT-001', commit: 'abc123' },
      synced: { created: 7, updated: 0, unchanged: 1 },
      error: null,
    });
  });

  it('keeps the failure reason, and clears it on retry', () => {
    const failed = [
      ev(1, 'task.claimed'),
      ev(2, 'task.failed', { error: 'spec still invalid after 3 attempts' }),
    ];
    expect(summarize(failed)).toMatchObject({
      phase: 'failed',
      error: 'spec still invalid after 3 attempts',
    });
    expect(summarize([...failed, ev(3, 'task.retrying')])).toMatchObject({ phase: 'queued', error: null });
  });

  it('parks the run while the agent waits for an answer, and queues it again once answered', () => {
    const asked = [
      ev(1, 'task.claimed'),
      ev(2, 'agent.question', {
        question_id: 'q1',
        kind: 'agent',
        question: 'CSV or TSV?',
        options: [],
        why: null,
      }),
    ];
    expect(summarize(asked).phase).toBe('awaiting_input');
    const answered = [
      ...asked,
      ev(3, 'question.answered', { question_id: 'q1', answer: 'CSV', by: 'local' }),
    ];
    expect(summarize(answered).phase).toBe('queued');
    expect(summarize([...answered, ev(4, 'task.claimed'), ev(5, 'task.completed')]).phase).toBe('completed');
  });
});

describe('describeEvent', () => {
  it('names validation results with PASSED or FAILED and lists issues with file and line', () => {
    const view = describeEvent(
      ev(1, 'spec.validation', {
        passed: false,
        attempt: 1,
        issues: [
          { level: 'error', code: 'REF_MISSING', path: '.omoi_os/tasks/TSK-001.md', line: 4, message: 'x' },
        ],
      }),
    );
    expect(view.title).toBe('Spec validation FAILED (attempt 1)');
    expect(view.tone).toBe('bad');
    expect(view.issues).toEqual([
      { level: 'error', code: 'REF_MISSING', path: '.omoi_os/tasks/TSK-001.md', line: 4, message: 'x' },
    ]);
    expect(describeEvent(ev(2, 'spec.validation', { passed: true, attempt: 2 })).title).toBe(
      'Spec validation PASSED (attempt 2)',
    );
  });

  it('collapses agent messages and tool uses', () => {
    expect(describeEvent(ev(1, 'agent.message', { text: 'Writing the design' }))).toMatchObject({
      collapsed: true,
      detail: 'Writing the design',
    });
    expect(describeEvent(ev(2, 'agent.tool_use', { name: 'write', input: { path: 'a.md' } }))).toMatchObject({
      title: 'Tool use: write',
      collapsed: true,
    });
  });

  it('says when the spec skill is enforced, and what was pushed, synced or failed', () => {
    expect(
      describeEvent(ev(1, 'sandbox.spawned', { provider: 'local', require_spec_skill: true })).notes,
    ).toEqual(['Spec skill enforcement enabled']);
    expect(describeEvent(ev(2, 'sandbox.spawned', { provider: 'local' })).notes).toEqual([]);
    expect(describeEvent(ev(3, 'git.pushed', { branch: 'omoi/TKT-002', commit: 'f'.repeat(40) })).title).toBe(
      `Pushed omoi/TKT-002 at ${'f'.repeat(10)}`,
    );
    expect(describeEvent(ev(4, 'spec.synced', { created: 3, updated: 1, unchanged: 2 })).title).toBe(
      'Specs synced: 3 created, 1 updated, 2 unchanged',
    );
    expect(describeEvent(ev(5, 'task.failed', { error: 'repository unreachable' })).title).toBe(
      'Task failed: repository unreachable',
    );
    expect(
      describeEvent(
        ev(7, 'ticket.status_changed', { from: 'building', to: 'blocked', reason: 'TSK-1: boom' }),
      ),
    ).toEqual({ title: 'Ticket moved from building to blocked', tone: 'bad', notes: ['TSK-1: boom'] });
    expect(
      describeEvent(ev(8, 'ticket.status_changed', { from: 'analyzing', to: 'awaiting_approval' })).title,
    ).toBe('Ticket moved from analyzing to awaiting approval');
    expect(describeEvent(ev(6, 'ticket.approved', { tasks: ['a', 'b', 'c'] })).title).toBe(
      'Spec approved: 3 tasks queued',
    );
  });
});

describe('worker failures', () => {
  it('shows the reason a worker gives before its task fails', () => {
    expect(describeEvent(ev(1, 'worker.failed', { error: 'cannot clone' }))).toMatchObject({
      title: 'Worker failed: cannot clone',
      tone: 'bad',
    });
    expect(
      summarize([ev(1, 'task.claimed'), ev(2, 'worker.failed', { error: 'cannot clone' })]),
    ).toMatchObject({
      phase: 'running',
      error: 'cannot clone',
    });
  });
});

describe('groupEntries', () => {
  it('folds consecutive sandbox log lines into one entry between the other events', () => {
    const entries = groupEntries([
      ev(1, 'task.claimed'),
      ev(2, 'sandbox.log', { text: 'a' }),
      ev(3, 'sandbox.log', { text: 'b' }),
      ev(4, 'spec.validation', { passed: true }),
      ev(5, 'sandbox.log', { text: 'c' }),
    ]);
    expect(entries.map((e) => (e.kind === 'event' ? e.event.id : e.events.map((x) => x.id)))).toEqual([
      1,
      [2, 3],
      4,
      [5],
    ]);
  });

  it('folds runs of two or more tool uses, and leaves a single one alone', () => {
    const entries = groupEntries([
      ev(1, 'agent.tool_use', { name: 'read_file' }),
      ev(2, 'agent.message', { text: 'x' }),
      ev(3, 'agent.tool_use', { name: 'write_file' }),
      ev(4, 'agent.tool_use', { name: 'write_file' }),
      ev(5, 'agent.tool_use', { name: 'list_files' }),
      ev(6, 'spec.validation', { passed: true }),
    ]);
    expect(entries.map((e) => e.kind)).toEqual(['event', 'event', 'tools', 'event']);
    const tools = entries[2]!;
    expect(tools.kind === 'tools' && toolSummary(tools.events)).toBe('write_file ×2, list_files');
  });
});
