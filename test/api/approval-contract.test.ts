// Approval's contract at the HTTP API, on a real socket: a spec task whose dependency is neither in
// its spec nor an approved task is refused with 409 and the reason (the README's promise), nothing is
// created; once the dependency's ticket is approved the same approval succeeds and the new task
// depends on the approved one. Tested through the API only, not approval's internals.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/api/main.js';
import { loadServerConfig } from '../../src/core/config.js';
import { createServices, type Services } from '../../src/core/services.js';
import type { SpecFile } from '../../src/spec-format/types.js';
import { dagSpec, dependingOn, taskId } from '../exec/support/dag-spec.js';
import { describeEachDatabase } from '../support/db.js';
import { TEST_REPO, uniqueName } from './support.js';

interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: bodies are asserted field by field
  body: any;
}

/** A fresh feature word per spec, so spec ids never collide within the shared database. */
function feature(): string {
  return `F${randomUUID()
    .replace(/[^0-9]/g, '')
    .slice(0, 6)}X`;
}

describeEachDatabase('approval over HTTP', (getDb) => {
  let services: Services;
  let server: RunningServer;

  beforeAll(async () => {
    services = await createServices(getDb(), { eventPollMs: 1000 });
    server = await startServer(loadServerConfig({ OMOI_PORT: '0' }, { webDir: null }), { services });
  });
  afterAll(async () => {
    await server?.close();
    await services?.stop();
  });

  async function call(method: string, path: string, body?: unknown): Promise<Reply> {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** A spec-driven ticket whose spec run finished and whose branch synced `documents`. */
  async function specTicket(projectId: string, documents: SpecFile[]): Promise<string> {
    const created = await call('POST', '/tickets', {
      project_id: projectId,
      description: 'Build the thing',
      workflow_mode: 'spec_driven',
    });
    expect(created.status).toBe(201);
    // The spec run itself is the orchestrator's; here it has simply finished.
    await getDb().query(`UPDATE tasks SET status = 'completed', finished_at = now() WHERE id = $1`, [
      created.body.task.id,
    ]);
    const synced = await call('POST', `/projects/${projectId}/specs/sync`, {
      documents: documents.map((d) => ({ path: d.path, content: String(d.content) })),
      ticket_id: created.body.ticket.id,
    });
    expect(synced.status).toBe(200);
    return created.body.ticket.id;
  }

  it('answers 409 with the reason for a dependency it cannot resolve, creates nothing, and approves once it can', async () => {
    const project = await call('POST', '/projects', { name: uniqueName('approve'), repo_url: TEST_REPO });
    expect(project.status).toBe(201);
    const f = feature();
    const first = dagSpec({ feature: f, tasks: { A: [] } });
    const firstTicket = await specTicket(project.body.id, first);
    const g = feature();
    const dependant = dependingOn(dagSpec({ feature: g, tasks: { A: [] } }), [taskId(f, 'A')]);
    const secondTicket = await specTicket(project.body.id, [...first, ...dependant]);

    // The dependency exists as a synced document of another ticket, but no task was made of it.
    const refused = await call('POST', `/tickets/${secondTicket}/approve`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('CONFLICT');
    expect(refused.body.error.message).toContain(`${taskId(g, 'A')} depends on ${taskId(f, 'A')}`);
    const untouched = await call('GET', `/tickets/${secondTicket}`);
    expect(untouched.body.approved_at).toBeNull();
    expect(untouched.body.tasks).toHaveLength(1); // the spec run only
    const tasks = await call('GET', `/tasks?ticket_id=${secondTicket}`);
    expect(tasks.body.tasks).toHaveLength(1);

    // Approve the dependency's ticket: now the same approval resolves it to that task.
    const approvedFirst = await call('POST', `/tickets/${firstTicket}/approve`);
    expect(approvedFirst.status).toBe(200);
    const dependency = approvedFirst.body.tasks.find(
      (t: { spec_task_id: string }) => t.spec_task_id === taskId(f, 'A'),
    );
    const approved = await call('POST', `/tickets/${secondTicket}/approve`);
    expect(approved.status).toBe(200);
    // its one spec task, and the integration run that waits for it
    expect(approved.body.created).toBe(2);
    const [own, integration] = approved.body.tasks as {
      id: string;
      task_type: string;
      depends_on: string[];
    }[];
    expect(own!.depends_on).toEqual([dependency.id]);
    expect(integration).toMatchObject({ task_type: 'integration', depends_on: [own!.id] });
  });
  it('says why a ticket cannot be approved yet: its spec run still going, failed, or its spec invalid; 404 for no ticket', async () => {
    const project = await call('POST', '/projects', { name: uniqueName('approve-why'), repo_url: TEST_REPO });
    const created = await call('POST', '/tickets', {
      project_id: project.body.id,
      description: 'Plan the export',
      workflow_mode: 'spec_driven',
    });
    expect(created.status).toBe(201);
    const { ticket, task } = created.body as { ticket: { id: string; ref: string }; task: { id: string } };
    const approve = () => call('POST', `/tickets/${ticket.id}/approve`);
    const setRun = (status: string, error: string | null = null) =>
      getDb().query('UPDATE tasks SET status = $2, error = $3 WHERE id = $1', [task.id, status, error]);

    expect(await approve()).toMatchObject({
      status: 409,
      body: {
        error: {
          code: 'CONFLICT',
          message: `the spec run of ${ticket.ref} is still pending; approve when it has finished`,
        },
      },
    });
    for (const [status, said] of [
      ['claimed', 'claimed'],
      ['running', 'running'],
      ['awaiting_input', 'awaiting input'],
    ] as const) {
      await setRun(status);
      expect((await approve()).body.error.message, status).toBe(
        `the spec run of ${ticket.ref} is still ${said}; approve when it has finished`,
      );
    }
    await setRun('failed', 'the agent stopped: no model');
    expect(await approve()).toMatchObject({
      status: 409,
      body: {
        error: {
          code: 'CONFLICT',
          message: `the spec run of ${ticket.ref} failed, nothing was synced: the agent stopped: no model`,
        },
      },
    });
    await setRun('completed');
    expect((await approve()).body.error.message).toBe(
      `ticket ${ticket.ref} has no synced spec tasks to approve`,
    );
    // a spec that failed validation: its message and issues
    const issue = {
      path: '.omoi_os/tasks/TSK-001.md',
      line: 3,
      code: 'REF_MISSING',
      message: 'TSK-009 does not exist',
    };
    const posted = await call('POST', `/tasks/${task.id}/events`, {
      type: 'spec.validation',
      data: { passed: false, attempt: 3, max_attempts: 3, message: '1 error', issues: [issue] },
    });
    expect(posted.status).toBeLessThan(300);
    const invalid = await approve();
    expect(invalid.status).toBe(409);
    expect(invalid.body.error.message).toBe(
      `the spec of ${ticket.ref} is invalid and was not synced: 1 error`,
    );
    expect(invalid.body.error.issues).toEqual([issue]);

    for (const missing of [randomUUID(), 'not-a-ticket'])
      expect(await call('POST', `/tickets/${missing}/approve`), missing).toMatchObject({
        status: 404,
        body: { error: { code: 'NOT_FOUND' } },
      });
  });

  it('titles each task by its spec id and title, keeps its type, runs it without the spec skill; the integration is titled by the ticket', async () => {
    const project = await call('POST', '/projects', {
      name: uniqueName('approve-tasks'),
      repo_url: TEST_REPO,
    });
    const f = feature();
    const ticketId = await specTicket(
      project.body.id,
      dagSpec({ feature: f, tasks: { A: [], B: ['A'] }, types: { B: 'test' } }),
    );
    const ticket = (await call('GET', `/tickets/${ticketId}`)).body as { ref: string; title: string };
    const approved = await call('POST', `/tickets/${ticketId}/approve`);
    expect(approved.status).toBe(200);
    const tasks = approved.body.tasks as {
      title: string;
      task_type: string;
      execution_config: Record<string, unknown>;
    }[];
    expect(tasks.map((t) => [t.title, t.task_type, t.execution_config.require_spec_skill])).toEqual([
      [`${taskId(f, 'A')}: Step A`, 'implementation', false],
      [`${taskId(f, 'B')}: Step B`, 'test', false],
      [`Integrate ${ticket.ref}: ${ticket.title}`, 'integration', false],
    ]);
  });
  it('refuses a spec whose latest validation failed after its sync, approves once a sync follows it, and records the approval', async () => {
    const project = await call('POST', '/projects', {
      name: uniqueName('approve-latest'),
      repo_url: TEST_REPO,
    });
    const f = feature();
    const spec = dagSpec({ feature: f, tasks: { A: [] } });
    const ticketId = await specTicket(project.body.id, spec);
    const detail = (await call('GET', `/tickets/${ticketId}`)).body as {
      ref: string;
      status: string;
      tasks: { id: string }[];
    };
    const issue = { path: '.omoi_os/tasks/x.md', line: 1, code: 'PARSE_ERROR', message: 'no frontmatter' };
    await call('POST', `/tasks/${detail.tasks[0]!.id}/events`, {
      type: 'spec.validation',
      data: { passed: false, attempt: 1, max_attempts: 3, message: '1 error in 1 file', issues: [issue] },
    });
    const refused = await call('POST', `/tickets/${ticketId}/approve`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(`the latest spec of ${detail.ref} is invalid: 1 error in 1 file`);
    expect(refused.body.error.issues).toEqual([issue]);

    // the worker's next sync (nothing changed: it reports spec.synced itself)
    await call('POST', `/tasks/${detail.tasks[0]!.id}/events`, {
      type: 'spec.synced',
      data: { created: 0, updated: 0, unchanged: spec.length },
    });
    const approved = await call('POST', `/tickets/${ticketId}/approve`);
    expect(approved.body.error ?? null).toBeNull();
    expect(approved.status).toBe(200);
    const logged = await getDb().query<{ type: string; data: Record<string, unknown> }>(
      `SELECT type, data FROM events WHERE ticket_id = $1 AND type IN ('ticket.approved', 'ticket.status_changed') ORDER BY id`,
      [ticketId],
    );
    const ids = (approved.body.tasks as { id: string }[]).map((t) => t.id);
    const afterApproval = logged.slice(logged.findIndex((e) => e.type === 'ticket.approved'));
    expect(afterApproval).toEqual([
      {
        type: 'ticket.approved',
        data: { ref: detail.ref, by: 'user', tasks: ids, spec_tasks: [taskId(f, 'A')] },
      },
      {
        type: 'ticket.status_changed',
        data: { from: expect.any(String), to: 'building', reason: 'spec approved' },
      },
    ]);
    expect(afterApproval[1]!.data.from).not.toBe('building');
    // approving again changes nothing and says no status changed
    expect((await call('POST', `/tickets/${ticketId}/approve`)).status).toBe(200);
    const again = await getDb().query(
      `SELECT count(*)::int AS n FROM events WHERE ticket_id = $1 AND type = 'ticket.status_changed' AND data->>'to' = 'building'`,
      [ticketId],
    );
    expect(again[0]).toEqual({ n: 1 });
  });
});
