import { describe, expect, it } from 'vitest';
import { specTaskStatus, ticketStatusFor } from './flow.js';

const spec = (status: string) => ({ status, task_type: 'create_spec', execution_mode: 'exploration' });
const work = (status: string, task_type = 'implementation') => ({
  status,
  task_type,
  execution_mode: 'implementation',
});

describe('ticketStatusFor', () => {
  it('follows the spec run before approval', () => {
    expect(ticketStatusFor([spec('pending')], false)).toBe('analyzing');
    expect(ticketStatusFor([spec('running')], false)).toBe('analyzing');
    expect(ticketStatusFor([spec('completed')], false)).toBe('awaiting_approval');
    // completed without a synced spec: nothing to approve yet
    expect(ticketStatusFor([spec('completed')], false, false)).toBe('analyzing');
    expect(ticketStatusFor([spec('failed')], false)).toBe('blocked');
    expect(ticketStatusFor([], false)).toBeNull();
  });

  it('moves building → testing (only test tasks left) → done, and to blocked on a failure', () => {
    expect(ticketStatusFor([spec('completed'), work('pending'), work('pending')], true)).toBe('building');
    expect(ticketStatusFor([spec('completed'), work('completed'), work('running', 'test')], true)).toBe(
      'testing',
    );
    expect(ticketStatusFor([spec('completed'), work('completed'), work('completed', 'test')], true)).toBe(
      'done',
    );
    expect(ticketStatusFor([spec('completed'), work('failed'), work('blocked')], true)).toBe('blocked');
    expect(ticketStatusFor([spec('completed'), work('completed'), work('cancelled')], true)).toBe('blocked');
  });

  it('integration: testing while it runs, done only once it completed (and its pull request opened)', () => {
    const built = [spec('completed'), work('completed'), work('completed', 'test')];
    expect(ticketStatusFor([...built, work('pending', 'integration')], true)).toBe('testing');
    expect(ticketStatusFor([...built, work('running', 'integration')], true)).toBe('testing');
    expect(ticketStatusFor([spec('completed'), work('running'), work('pending', 'integration')], true)).toBe(
      'building',
    );
    expect(ticketStatusFor([...built, work('failed', 'integration')], true)).toBe('blocked');
    const integrated = [...built, work('completed', 'integration')];
    expect(ticketStatusFor(integrated, true)).toBe('done');
    expect(ticketStatusFor(integrated, true, true, 'opened')).toBe('done');
    expect(ticketStatusFor(integrated, true, true, 'waiting')).toBe('testing');
    expect(ticketStatusFor(integrated, true, true, 'failed')).toBe('blocked');
  });

  it('quick tickets: backlog until claimed, then building, done', () => {
    expect(ticketStatusFor([work('pending')], false)).toBe('backlog');
    expect(ticketStatusFor([work('claimed')], false)).toBe('building');
    expect(ticketStatusFor([work('completed')], false)).toBe('done');
    // a ticket of only test tasks is not "testing" before anything was built
    expect(ticketStatusFor([work('running', 'test')], false)).toBe('building');
  });
});

describe('specTaskStatus', () => {
  it('maps queue states onto the spec task enum', () => {
    expect(
      ['pending', 'claimed', 'running', 'completed', 'failed', 'cancelled', 'blocked'].map(specTaskStatus),
    ).toEqual(['pending', 'in_progress', 'in_progress', 'done', 'blocked', 'blocked', 'blocked']);
  });
});
