import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { describeEvent, followTicket } from './wait-progress.js';

const event = (id: number, type: string, data: Record<string, unknown> = {}, task_id = 'T') => ({
  id,
  type,
  task_id,
  data,
});

describe('ticket --wait progress', () => {
  it('describes the steps of a run in one line each and hides worker output', () => {
    expect(
      describeEvent(
        event(1, 'sandbox.spawned', {
          provider: 'local',
          branch: 'omoi/TKT-001',
          message: 'Spec skill enforcement enabled',
        }),
      ),
    ).toBe('sandbox local started on branch omoi/TKT-001 · Spec skill enforcement enabled');
    expect(
      describeEvent(
        event(2, 'spec.validation', {
          passed: false,
          message: 'Spec validation FAILED (attempt 1 of 3)',
          issues: [{ level: 'error', code: 'FIELD_MISSING', path: '.omoi_os/tasks/TSK-1.md', line: 2 }],
        }),
      ),
    ).toBe('Spec validation FAILED (attempt 1 of 3)\n    .omoi_os/tasks/TSK-1.md:2 FIELD_MISSING');
    expect(describeEvent(event(3, 'sandbox.log', { stream: 'stdout', text: 'noise' }))).toBeNull();
    expect(describeEvent(event(4, 'task.failed', { error: 'git clone failed: nope' }))).toBe(
      'failed: git clone failed: nope',
    );
  });

  it('follows the stream across a dropped connection, resuming after the last event id, until the task ends', async () => {
    const all = [
      event(1, 'task.claimed', { attempt: 1, max_attempts: 3 }),
      event(2, 'agent.message', { text: 'other task' }, 'OTHER'),
      event(3, 'spec.validation', { passed: true, message: 'Spec validation PASSED' }),
      event(4, 'task.completed'),
    ];
    const seenLastIds: string[] = [];
    const server = createServer((req, res) => {
      const last = Number(req.headers['last-event-id'] ?? 0);
      seenLastIds.push(String(last));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // The first connection drops after two events; the second carries the rest.
      const batch = all.filter((e) => e.id > last).slice(0, last === 0 ? 2 : 10);
      for (const e of batch) res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const lines: string[] = [];
    const ok = await followTicket({
      baseUrl: `http://127.0.0.1:${port}`,
      ticketId: 'K',
      taskId: 'T',
      write: (l) => lines.push(l),
    });
    server.close();
    expect(ok).toBe(true);
    expect(seenLastIds).toEqual(['0', '2']);
    expect(lines.map((l) => l.replace(/^\s*[\d.]+s\s+/, ''))).toEqual([
      'claimed (attempt 1 of 3)',
      'Spec validation PASSED',
      'completed',
    ]);
  });

  /** Serves `all` as one SSE stream and follows it with `through`. */
  async function followAll(all: ReturnType<typeof event>[]) {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of all) res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      // keep the stream open, as the server does: the follower must end by itself
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const lines: string[] = [];
    try {
      const ok = await followTicket({
        baseUrl: `http://127.0.0.1:${port}`,
        ticketId: 'K',
        taskId: 'T',
        through: true,
        write: (l) => lines.push(l.replace(/^\s*[\d.]+s\s+/, '')),
      });
      return { ok, lines };
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }

  it('with through, follows auto-approval, every task and the integration to the pull request URL', async () => {
    const { ok, lines } = await followAll([
      event(1, 'task.completed'),
      event(2, 'ticket.approved', { by: 'auto', tasks: ['A', 'I'] }, null as never),
      event(3, 'task.created', { title: 'TSK-X-001: Step A', task_type: 'implementation' }, 'A'),
      event(4, 'task.created', { title: 'Integrate TKT-001: x', task_type: 'integration' }, 'I'),
      event(5, 'task.claimed', { attempt: 1, max_attempts: 3 }, 'A'),
      event(6, 'verify.result', { command: 'npm test', passed: true, attempt: 1, max_attempts: 3 }, 'A'),
      event(7, 'task.completed', {}, 'A'),
      event(8, 'task.completed', {}, 'I'),
      event(9, 'pr.opened', { url: 'https://forge/acme/shop/pull/1', updated: false }, null as never),
      event(10, 'task.claimed', {}, 'A'),
    ]);
    expect(ok).toBe(true);
    expect(lines).toEqual([
      'completed',
      'approved (auto_approve): 2 tasks queued',
      'TSK-X-001  claimed (attempt 1 of 3)',
      'TSK-X-001  verify `npm test` passed · attempt 1 of 3',
      'TSK-X-001  completed',
      'integration  completed',
      'pull request opened: https://forge/acme/shop/pull/1',
    ]);
  });

  it('with through, ends when the ticket waits for a person, and fails with the pull request', async () => {
    const waiting = await followAll([
      event(1, 'task.completed'),
      event(2, 'ticket.status_changed', { from: 'analyzing', to: 'awaiting_approval' }, null as never),
    ]);
    expect(waiting.ok).toBe(true);
    expect(waiting.lines.at(-1)).toBe('ticket awaiting approval');
    const failed = await followAll([
      event(1, 'task.completed'),
      event(2, 'ticket.approved', { by: 'auto', tasks: ['I'] }, null as never),
      event(3, 'pr.failed', { provider: 'github', error: '403 no scope' }, null as never),
    ]);
    expect(failed.ok).toBe(false);
    expect(failed.lines.at(-1)).toBe('pull request failed: 403 no scope');
  });

  it('ends when a task asks a question, printing the question, why and the options', async () => {
    const question = {
      question_id: 'q1',
      kind: 'agent',
      question: 'Should large reports stream or be paginated?',
      options: ['stream', 'paginate'],
      why: 'The ticket says "large" but gives no size.',
    };
    const asked = await followAll([
      event(1, 'task.claimed', { attempt: 1, max_attempts: 3 }),
      event(2, 'agent.question', question),
      event(3, 'agent.message', { text: 'never printed: the wait ended' }),
    ]);
    expect(asked.ok).toBe(true);
    expect(asked.lines).toEqual([
      'claimed (attempt 1 of 3)',
      'the agent asks: Should large reports stream or be paginated?\n' +
        '    why: The ticket says "large" but gives no size.\n' +
        '    options: stream | paginate\n' +
        '    (the task waits for your answer)',
    ]);
    // after approval, any task of the ticket that asks ends the wait too
    const later = await followAll([
      event(1, 'task.completed'),
      event(2, 'ticket.approved', { by: 'auto', tasks: ['A'] }, null as never),
      event(3, 'task.created', { title: 'TSK-X-001: Step A', task_type: 'implementation' }, 'A'),
      event(4, 'agent.question', { ...question, kind: 'budget', options: [], why: null }, 'A'),
    ]);
    expect(later.ok).toBe(true);
    expect(later.lines.at(-1)).toBe(
      'TSK-X-001  budget question: Should large reports stream or be paginated?\n    (the task waits for your answer)',
    );
  });
});
