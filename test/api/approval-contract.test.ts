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
});
