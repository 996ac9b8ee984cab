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
});
