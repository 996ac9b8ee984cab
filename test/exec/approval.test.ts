// The approval gate and the status flow on a real database (PGlite, and PostgreSQL when
// OMOI_TEST_DATABASE_URL is set): spec tasks become executable tasks with resolved dependencies,
// approvals are idempotent and refused with a reason, and task outcomes flow back to the ticket.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createServices, type Services } from '../../src/core/services.js';
import type { Task } from '../../src/core/tasks.js';
import { openDatabase } from '../../src/db/client.js';
import { describeEachDatabase } from '../support/db.js';
import { DIAMOND, dagSpec, dependingOn, taskId } from './support/dag-spec.js';

let feature = 0;
/** A fresh feature word per ticket, so spec ids never collide within the shared database. */
function nextFeature(): string {
  feature += 1;
  return `F${feature}X${randomUUID()
    .slice(0, 4)
    .replace(/[^0-9]/g, '7')}`;
}

describeEachDatabase('approval and status flow', (getDb, kind, getTestDatabase) => {
  let services: Services;

  beforeAll(async () => {
    services = await createServices(getDb());
  });
  afterAll(async () => {
    await services?.stop();
  });

  async function project(settings: Record<string, unknown> = {}) {
    return services.projects.create({ name: `p-${randomUUID()}`, repo_url: '/tmp/none.git', settings });
  }

  /** A spec-driven ticket whose spec run finished (and optionally synced `files`). */
  async function specTicket(projectId: string, spec?: ReturnType<typeof dagSpec>) {
    const { ticket, task } = await services.tickets.create({
      project_id: projectId,
      description: 'Build the thing',
      workflow_mode: 'spec_driven',
    });
    await getDb().query(`UPDATE tasks SET status = 'completed', finished_at = now() WHERE id = $1`, [
      task.id,
    ]);
    if (spec) await services.specs.sync(projectId, spec, { ticketId: ticket.id });
    return { ticket, specTask: task };
  }

  const bySpec = (tasks: Task[]) => new Map(tasks.map((t) => [t.spec_task_id!, t]));

  it('creates one task per spec task with depends_on resolved to the new rows, and one integration task', async () => {
    const p = await project();
    const f = nextFeature();
    const { ticket } = await specTicket(p.id, dagSpec({ feature: f, tasks: DIAMOND }));
    const outcome = await services.tickets.approve(ticket.id);
    expect(outcome.created).toBe(7);
    // The integration task comes last and waits for every spec task of the ticket.
    const integration = outcome.tasks.at(-1)!;
    expect(integration).toMatchObject({
      task_type: 'integration',
      execution_mode: 'implementation',
      spec_task_id: null,
      branch: `omoi/${ticket.ref}-feature`,
      status: 'pending',
    });
    expect(integration.depends_on.sort()).toEqual(
      outcome.tasks
        .slice(0, -1)
        .map((t) => t.id)
        .sort(),
    );
    expect(integration.description).toContain(`omoi/${ticket.ref}-${taskId(f, 'A')}`);
    expect(outcome.ticket.status).toBe('building');
    expect(outcome.ticket.approved_at).not.toBeNull();
    const tasks = bySpec(outcome.tasks);
    const id = (l: string) => tasks.get(taskId(f, l))!.id;
    for (const [letter, deps] of Object.entries(DIAMOND)) {
      const task = tasks.get(taskId(f, letter))!;
      expect(task.depends_on.sort()).toEqual(deps.map(id).sort());
      expect(task.branch).toBe(`omoi/${ticket.ref}-${taskId(f, letter)}`);
      expect(task.execution_mode).toBe('implementation');
      expect(task.status).toBe('pending');
    }
    // The prompt context: the task's own spec file, its ticket, the requirement it addresses, the design.
    const b = tasks.get(taskId(f, 'B'))!;
    expect(b.description).toContain(`### Task spec: .omoi_os/tasks/${taskId(f, 'B')}.md`);
    expect(b.description).toContain('Write step-b.txt');
    expect(b.description).toContain(`### Ticket: .omoi_os/tickets/TKT-${f}-001.md`);
    expect(b.description).toContain(`REQ-${f}-CORE-001: Run the`);
    expect(b.description).toContain('SHALL do it');
    expect(b.description).toContain(`### Design: .omoi_os/designs/${f.toLowerCase()}.md`);
    expect(b.description).toContain('one module per task');
    // Dependencies first in the response.
    const order = outcome.tasks.map((t) => t.spec_task_id);
    expect(order.indexOf(taskId(f, 'A'))).toBeLessThan(order.indexOf(taskId(f, 'B')));
    expect(order.indexOf(taskId(f, 'D'))).toBeLessThan(order.indexOf(taskId(f, 'E')));
  });

  it('approving twice creates nothing new and returns the same tasks', async () => {
    const p = await project();
    const { ticket } = await specTicket(p.id, dagSpec({ feature: nextFeature(), tasks: DIAMOND }));
    const first = await services.tickets.approve(ticket.id);
    const second = await services.tickets.approve(ticket.id);
    expect(second.created).toBe(0);
    expect(second.tasks.map((t) => t.id).sort()).toEqual(first.tasks.map((t) => t.id).sort());
    expect(second.tasks.at(-1)?.task_type).toBe('integration');
    const all = await services.tasks.list({ ticket_id: ticket.id });
    expect(all.filter((t) => t.spec_task_id !== null)).toHaveLength(6);
    expect(all.filter((t) => t.task_type === 'integration')).toHaveLength(1);
  });

  it('refuses an approval while another approval of the ticket is running (409), and creates one set', async () => {
    const p = await project();
    const { ticket } = await specTicket(p.id, dagSpec({ feature: nextFeature(), tasks: DIAMOND }));
    const results = await Promise.allSettled([
      services.tickets.approve(ticket.id),
      services.tickets.approve(ticket.id),
    ]);
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { created: 7 } });
    expect(results[1]).toMatchObject({
      status: 'rejected',
      reason: { code: 'CONFLICT', message: expect.stringContaining('already running') },
    });
    const all = await services.tasks.list({ ticket_id: ticket.id });
    expect(all.filter((t) => t.spec_task_id !== null)).toHaveLength(6);
  });

  if (kind === 'postgres')
    it('refuses an approval while another process approves the same ticket (advisory lock)', async () => {
      const p = await project();
      const { ticket } = await specTicket(p.id, dagSpec({ feature: nextFeature(), tasks: DIAMOND }));
      const { url, searchPath } = getTestDatabase();
      const other = await openDatabase({ url: url!, searchPath: searchPath!, migrate: false, poolSize: 1 });
      try {
        await other.transaction(async (tx) => {
          await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`omoi.approve.${ticket.id}`]);
          await expect(services.tickets.approve(ticket.id)).rejects.toMatchObject({
            code: 'CONFLICT',
            message: expect.stringContaining('already running'),
          });
        });
      } finally {
        await other.close();
      }
      expect((await services.tickets.approve(ticket.id)).created).toBe(7);
    });

  it('refuses an unsynced spec, a spec run still going, an invalid spec and a quick ticket with the reason', async () => {
    const p = await project();
    const { ticket: unsynced } = await specTicket(p.id);
    await expect(services.tickets.approve(unsynced.id)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('no synced spec tasks'),
    });

    const running = await services.tickets.create({
      project_id: p.id,
      description: 'Still planning',
      workflow_mode: 'spec_driven',
    });
    await expect(services.tickets.approve(running.ticket.id)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('spec run'),
    });

    const { ticket: invalid, specTask } = await specTicket(p.id);
    await services.events.append({
      type: 'spec.validation',
      projectId: p.id,
      ticketId: invalid.id,
      taskId: specTask.id,
      data: {
        passed: false,
        attempt: 3,
        max_attempts: 3,
        summary: { files: 1, errors: 1, warnings: 0 },
        message: 'Spec validation FAILED (attempt 3 of 3): 1 files, 1 errors, 0 warnings',
        issues: [
          {
            level: 'error',
            code: 'ENUM_INVALID',
            path: '.omoi_os/tickets/TKT-001.md',
            line: 4,
            message: 'bad',
          },
        ],
      },
    });
    const refusal = await services.tickets.approve(invalid.id).catch((e) => e);
    expect(refusal).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('invalid') });
    expect(refusal.issues).toEqual([expect.objectContaining({ code: 'ENUM_INVALID', line: 4 })]);

    const quick = await services.tickets.create({
      project_id: p.id,
      description: 'Fix it',
      workflow_mode: 'quick',
    });
    await expect(services.tickets.approve(quick.ticket.id)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('quick'),
    });
    expect(await services.tasks.list({ project_id: p.id, status: 'pending' })).toHaveLength(2); // the spec run + quick
  });

  it("honours tickets' blocked_by and resolves dependencies on tasks an earlier approval created", async () => {
    const p = await project();
    const f = nextFeature();
    // Two spec tickets in one spec: ticket 2 (task C) is blocked by ticket 1 (tasks A, B).
    const spec = dagSpec({
      feature: f,
      tasks: { A: [], B: ['A'], C: [] },
      tickets: { 1: { tasks: ['A', 'B'] }, 2: { tasks: ['C'], blockedBy: [1] } },
    });
    const { ticket } = await specTicket(p.id, spec);
    const tasks = bySpec((await services.tickets.approve(ticket.id)).tasks);
    const c = tasks.get(taskId(f, 'C'))!;
    expect(c.depends_on.sort()).toEqual(
      [tasks.get(taskId(f, 'A'))!.id, tasks.get(taskId(f, 'B'))!.id].sort(),
    );

    // A later ticket whose spec task depends on B of the approved ticket above.
    const g = nextFeature();
    const later = dependingOn(dagSpec({ feature: g, tasks: { A: [] } }), [taskId(f, 'B')]);
    // Its branch holds both specs (the sync validates the tree it gets); the earlier documents stay
    // the first ticket's. The mirror (`blocks`) is missing: the validator only warns.
    const { ticket: second } = await specTicket(p.id, [...spec, ...later]);
    const [only, integration] = (await services.tickets.approve(second.id)).tasks;
    expect(only!.depends_on).toEqual([tasks.get(taskId(f, 'B'))!.id]);
    // The integration task waits for its own ticket's tasks only.
    expect(integration!.depends_on).toEqual([only!.id]);
  });

  it('refuses (409) a spec task whose dependency is neither in its spec nor approved, and creates nothing', async () => {
    const p = await project();
    const f = nextFeature();
    const first = dagSpec({ feature: f, tasks: { A: [] } });
    // Synced by an earlier ticket, never approved: its task exists as a document, not as a task.
    await specTicket(p.id, first);
    const g = nextFeature();
    const dependant = dependingOn(dagSpec({ feature: g, tasks: { A: [] } }), [taskId(f, 'A')]);
    const { ticket } = await specTicket(p.id, [...first, ...dependant]);
    await expect(services.tickets.approve(ticket.id)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining(`${taskId(g, 'A')} depends on ${taskId(f, 'A')}`),
    });
    expect(await services.tasks.list({ ticket_id: ticket.id })).toHaveLength(1); // the spec run only
    expect((await services.tickets.get(ticket.id)).approved_at).toBeNull();
  });

  it('a failure blocks exactly its dependants and the ticket; a retry releases them; the spec tasks follow', async () => {
    const p = await project();
    const f = nextFeature();
    const { ticket } = await specTicket(p.id, dagSpec({ feature: f, tasks: DIAMOND, types: { E: 'test' } }));
    const tasks = bySpec((await services.tickets.approve(ticket.id)).tasks);
    const t = (l: string) => tasks.get(taskId(f, l))!;
    const set = async (l: string, status: string, error: string | null = null) => {
      await getDb().query(`UPDATE tasks SET status = $2, error = $3 WHERE id = $1`, [t(l).id, status, error]);
      return services.flow.settle(t(l).id);
    };
    const statuses = async () => {
      const rows = await services.tasks.list({ ticket_id: ticket.id });
      return Object.fromEntries(
        Object.keys(DIAMOND).map((l) => [l, rows.find((r) => r.id === t(l).id)!.status]),
      );
    };
    const specStatus = async (l: string) =>
      (await services.specs.listForTicket(ticket.id)).find((d) => d.spec_id === taskId(f, l))!.frontmatter
        .status;

    expect(await set('A', 'running')).toBe('building');
    expect(await specStatus('A')).toBe('in_progress');
    expect(await set('A', 'failed', 'tests failed')).toBe('blocked');
    const integration = (await services.tasks.list({ ticket_id: ticket.id })).find(
      (x) => x.task_type === 'integration',
    )!;
    expect(integration.status).toBe('blocked');
    expect(await statuses()).toEqual({
      A: 'failed',
      B: 'blocked',
      C: 'blocked',
      D: 'blocked',
      E: 'blocked',
      F: 'pending',
    });
    const blocked = (await services.tasks.get(t('D').id)).error;
    expect(blocked).toContain(`${taskId(f, 'A')} failed: tests failed`);
    expect(await specStatus('D')).toBe('blocked');
    const detail = await services.tickets.detail(ticket.id);
    expect(detail.status).toBe('blocked');
    expect(
      detail.events.find(
        (e): e is Extract<typeof e, { type: 'ticket.status_changed' }> =>
          e.type === 'ticket.status_changed' && e.data.to === 'blocked',
      )?.data.reason,
    ).toContain('tests failed');

    // Retry through the service + settle (what POST /tasks/:id/retry does).
    await services.tasks.retry(t('A').id);
    expect(await services.flow.settle(t('A').id)).toBe('building');
    expect(await statuses()).toEqual({
      A: 'pending',
      B: 'pending',
      C: 'pending',
      D: 'pending',
      E: 'pending',
      F: 'pending',
    });
    for (const l of ['A', 'B', 'C', 'D', 'F']) await set(l, 'completed');
    expect((await services.tickets.get(ticket.id)).status).toBe('testing'); // only the test task E is left
    expect(await specStatus('D')).toBe('done');
    // Every spec task done: the integration run is left, shown as testing; done once it completes.
    expect(await set('E', 'completed')).toBe('testing');
    await getDb().query(`UPDATE tasks SET status = 'completed' WHERE id = $1`, [integration.id]);
    expect(await services.flow.settle(integration.id)).toBe('done');
  });

  it('auto_approve approves the spec as soon as the spec run completes', async () => {
    const p = await project({ auto_approve: true });
    const { ticket, specTask } = await specTicket(p.id, dagSpec({ feature: nextFeature(), tasks: DIAMOND }));
    await services.flow.settle(specTask.id);
    const detail = await services.tickets.detail(ticket.id);
    expect(detail.approved_at).not.toBeNull();
    expect(detail.status).toBe('building');
    expect(detail.tasks.filter((x) => x.spec_task_id)).toHaveLength(6);
    expect(detail.tasks.filter((x) => x.task_type === 'integration')).toHaveLength(1);
    expect(detail.events.find((e) => e.type === 'ticket.approved')?.data.by).toBe('auto');

    const manual = await project();
    const other = await specTicket(manual.id, dagSpec({ feature: nextFeature(), tasks: DIAMOND }));
    await services.flow.settle(other.specTask.id);
    expect((await services.tickets.get(other.ticket.id)).approved_at).toBeNull();
  });
});
