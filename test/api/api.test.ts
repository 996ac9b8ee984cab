import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/db.js';
import { exampleFiles, makeApi, TEST_REPO, type TestApi, uniqueName } from './support.js';

describeEachDatabase('HTTP API', (getDb) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await makeApi(getDb());
  });
  afterAll(async () => {
    await api?.close();
  });

  async function project(): Promise<{ id: string; name: string }> {
    const res = await api.request('POST', '/api/v1/projects', {
      name: uniqueName(),
      repo_url: TEST_REPO,
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  it('answers /health and serves the OpenAPI document', async () => {
    const health = await api.request('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    const doc = await api.request('GET', '/api/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/projects',
        '/api/v1/tickets',
        '/api/v1/tasks/{id}',
        '/api/v1/events',
        '/api/v1/projects/{id}/specs/sync',
      ]),
    );
    expect(doc.body.components.schemas.CreateTicket.properties.workflow_mode.enum).toEqual([
      'quick',
      'spec_driven',
    ]);
  });

  it('creates, lists and reads projects', async () => {
    const p = await project();
    const list = await api.request('GET', '/api/v1/projects');
    expect(list.body.projects.map((x: { id: string }) => x.id)).toContain(p.id);
    const one = await api.request('GET', `/api/v1/projects/${p.id}`);
    expect(one.body).toMatchObject({
      id: p.id,
      repo_url: TEST_REPO,
      default_branch: 'main',
      settings: {},
    });
    const dup = await api.request('POST', '/api/v1/projects', { name: p.name, repo_url: TEST_REPO });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('CONFLICT');
  });

  it('spec_driven: the first task carries the spec skill, create_spec, exploration', async () => {
    const p = await project();
    const res = await api.request('POST', '/api/v1/tickets', {
      project_id: p.id,
      description: 'Add webhook subscriptions\nwith retries and signatures',
      workflow_mode: 'spec_driven',
    });
    expect(res.status).toBe(201);
    expect(res.body.ticket).toMatchObject({
      project_id: p.id,
      ref: 'TKT-001',
      title: 'Add webhook subscriptions',
      workflow_mode: 'spec_driven',
      status: 'backlog',
    });
    expect(res.body.task).toMatchObject({
      ticket_id: res.body.ticket.id,
      status: 'pending',
      task_type: 'create_spec',
      execution_mode: 'exploration',
      execution_config: { require_spec_skill: true, selected_skill: 'spec-driven-dev' },
      branch: 'omoi/TKT-001',
    });
  });

  it('quick: the first task is an implementation without the spec skill; refs count up per project', async () => {
    const p = await project();
    const first = await api.request('POST', '/api/v1/tickets', {
      project_id: p.id,
      title: 'Fix the typo',
      description: 'The README says teh',
      workflow_mode: 'quick',
      priority: 'HIGH',
    });
    const second = await api.request('POST', '/api/v1/tickets', {
      project_id: p.id,
      description: 'Second',
      workflow_mode: 'quick',
    });
    expect(first.body.task).toMatchObject({
      task_type: 'implementation',
      execution_mode: 'implementation',
      execution_config: { require_spec_skill: false },
      priority: 'HIGH',
    });
    expect(first.body.task.execution_config).not.toHaveProperty('selected_skill');
    expect([first.body.ticket.ref, second.body.ticket.ref]).toEqual(['TKT-001', 'TKT-002']);
    const other = await project();
    const third = await api.request('POST', '/api/v1/tickets', {
      project_id: other.id,
      description: 'Elsewhere',
      workflow_mode: 'quick',
    });
    expect(third.body.ticket.ref).toBe('TKT-001');
  });

  it('derives a title from a long description at a word boundary', async () => {
    const p = await project();
    const description = `${'word '.repeat(40)}end`;
    const res = await api.request('POST', '/api/v1/tickets', {
      project_id: p.id,
      description,
      workflow_mode: 'quick',
    });
    expect(res.body.ticket.title.length).toBeLessThanOrEqual(81);
    expect(res.body.ticket.title.endsWith('…')).toBe(true);
    expect(res.body.ticket.title.startsWith('word word')).toBe(true);
  });

  it('refuses a workflow mode other than quick or spec_driven, naming the allowed values, and stores nothing', async () => {
    const p = await project();
    const res = await api.request('POST', '/api/v1/tickets', {
      project_id: p.id,
      description: 'x',
      workflow_mode: 'yolo',
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toContain('workflow_mode');
    expect(res.body.error.message).toContain('quick');
    expect(res.body.error.message).toContain('spec_driven');
    const list = await api.request('GET', `/api/v1/tickets?project_id=${p.id}`);
    expect(list.body.tickets).toEqual([]);
  });

  it('writes ticket.created and task.created in the same transaction as the rows', async () => {
    const p = await project();
    const res = await api.request('POST', '/api/v1/tickets', {
      project_id: p.id,
      description: 'Events please',
      workflow_mode: 'spec_driven',
    });
    const detail = await api.request('GET', `/api/v1/tickets/${res.body.ticket.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.events.map((e: { type: string }) => e.type)).toEqual([
      'ticket.created',
      'task.created',
    ]);
    expect(detail.body.events[1]).toMatchObject({
      project_id: p.id,
      ticket_id: res.body.ticket.id,
      task_id: res.body.task.id,
      data: { execution_config: { require_spec_skill: true, selected_skill: 'spec-driven-dev' } },
    });
    expect(detail.body.tasks.map((t: { id: string }) => t.id)).toEqual([res.body.task.id]);
    expect(detail.body.spec_documents).toEqual([]);
  });

  it('NOTIFYs omoi_tasks with the project id when a task becomes pending', async () => {
    const p = await project();
    const seen: string[] = [];
    const unlisten = await getDb().listen('omoi_tasks', (payload) => seen.push(payload));
    try {
      await api.request('POST', '/api/v1/tickets', {
        project_id: p.id,
        description: 'Wake up',
        workflow_mode: 'quick',
      });
      const start = Date.now();
      while (!seen.includes(p.id) && Date.now() - start < 20_000) await new Promise((r) => setTimeout(r, 20));
      expect(seen).toContain(p.id);
    } finally {
      await unlisten();
    }
  });

  it('creates tasks with dependencies in the same project, cancels and retries them', async () => {
    const p = await project();
    const t = await api.request('POST', '/api/v1/tickets', {
      project_id: p.id,
      description: 'Parent',
      workflow_mode: 'quick',
    });
    const ticketId = t.body.ticket.id;
    const a = await api.request('POST', '/api/v1/tasks', { ticket_id: ticketId, title: 'A' });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({
      execution_mode: 'implementation',
      task_type: 'implementation',
      depends_on: [],
    });
    const b = await api.request('POST', '/api/v1/tasks', {
      ticket_id: ticketId,
      title: 'B',
      depends_on: [a.body.id],
      execution_config: { require_spec_skill: true, selected_skill: 'spec-driven-dev' },
      priority: 'CRITICAL',
      status: 'blocked',
    });
    expect(b.status).toBe(201);
    expect(b.body).toMatchObject({
      depends_on: [a.body.id],
      execution_mode: 'exploration',
      task_type: 'create_spec',
      priority: 'CRITICAL',
      status: 'blocked',
    });
    const list = await api.request('GET', `/api/v1/tasks?ticket_id=${ticketId}`);
    expect(list.body.tasks.map((x: { title: string }) => x.title)).toEqual(['Parent', 'A', 'B']);
    const pendingOnly = await api.request('GET', `/api/v1/tasks?ticket_id=${ticketId}&status=blocked`);
    expect(pendingOnly.body.tasks.map((x: { title: string }) => x.title)).toEqual(['B']);

    const cycle = await api.request('POST', `/api/v1/tasks/${a.body.id}/dependencies`, {
      depends_on: [b.body.id],
    });
    expect(cycle.status).toBe(422);
    expect(cycle.body.error.code).toBe('DEPENDENCY_CYCLE');
    expect(cycle.body.error.message).toContain(`${a.body.id} -> ${b.body.id} -> ${a.body.id}`);

    const otherProject = await project();
    const ot = await api.request('POST', '/api/v1/tickets', {
      project_id: otherProject.id,
      description: 'Other',
      workflow_mode: 'quick',
    });
    const cross = await api.request('POST', '/api/v1/tasks', {
      ticket_id: ticketId,
      title: 'C',
      depends_on: [ot.body.task.id],
    });
    expect(cross.status).toBe(400);
    expect(cross.body.error.message).toContain('another project');

    const cancelled = await api.request('POST', `/api/v1/tasks/${a.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const again = await api.request('POST', `/api/v1/tasks/${a.body.id}/cancel`);
    expect(again.status).toBe(409);
    const retried = await api.request('POST', `/api/v1/tasks/${a.body.id}/retry`);
    expect(retried.body).toMatchObject({ status: 'pending', attempts: 0, error: null });
    const retryPending = await api.request('POST', `/api/v1/tasks/${a.body.id}/retry`);
    expect(retryPending.status).toBe(409);
    const events = await api.services.events.list({ task_id: a.body.id }, 0, 100);
    expect(events.map((e) => e.type)).toEqual(['task.created', 'task.cancelled', 'task.retrying']);
  });

  it('returns a task with its ticket, project repo_url and execution_config', async () => {
    const p = await project();
    const t = await api.request('POST', '/api/v1/tickets', {
      project_id: p.id,
      description: 'Spec it',
      workflow_mode: 'spec_driven',
    });
    const res = await api.request('GET', `/api/v1/tasks/${t.body.task.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: t.body.task.id,
      execution_config: { require_spec_skill: true, selected_skill: 'spec-driven-dev' },
      ticket: { id: t.body.ticket.id, ref: 'TKT-001', workflow_mode: 'spec_driven' },
      project: { id: p.id, repo_url: TEST_REPO, default_branch: 'main' },
    });
  });

  it('accepts worker events one at a time and in batches, and refuses server-owned types', async () => {
    const p = await project();
    const t = await api.request('POST', '/api/v1/tickets', {
      project_id: p.id,
      description: 'Run',
      workflow_mode: 'quick',
    });
    const taskId = t.body.task.id;
    const one = await api.request('POST', `/api/v1/tasks/${taskId}/events`, {
      type: 'agent.message',
      data: { text: 'hello' },
    });
    expect(one.status).toBe(201);
    expect(one.body.events[0]).toMatchObject({
      type: 'agent.message',
      project_id: p.id,
      ticket_id: t.body.ticket.id,
      task_id: taskId,
      data: { text: 'hello' },
    });
    const batch = await api.request('POST', `/api/v1/tasks/${taskId}/events`, {
      events: [
        { type: 'worker.started' },
        { type: 'spec.validation', data: { passed: true, attempt: 1, issues: [] } },
      ],
    });
    expect(batch.body.events.map((e: { type: string }) => e.type)).toEqual([
      'worker.started',
      'spec.validation',
    ]);
    expect(batch.body.events[1].id).toBeGreaterThan(batch.body.events[0].id);
    const owned = await api.request('POST', `/api/v1/tasks/${taskId}/events`, { type: 'task.completed' });
    expect(owned.status).toBe(403);
  });

  describe('spec sync', () => {
    it('stores a valid set, reports the same set twice as unchanged, and resolves references to rows', async () => {
      const p = await project();
      const files = await exampleFiles();
      const first = await api.request('POST', `/api/v1/projects/${p.id}/specs/sync`, { documents: files });
      expect(first.status).toBe(200);
      expect(first.body.created).toBe(files.length - countFreeDocs(files));
      expect(first.body).toMatchObject({ updated: 0, unchanged: 0, valid: true });
      const second = await api.request('POST', `/api/v1/projects/${p.id}/specs/sync`, { documents: files });
      expect(second.body).toMatchObject({ created: 0, updated: 0, unchanged: first.body.created });

      const docs = await api.request('GET', `/api/v1/projects/${p.id}/specs?kind=task`);
      const tsk2 = docs.body.documents.find((d: { spec_id: string }) => d.spec_id === 'TSK-002');
      expect(tsk2.links).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'parent_ticket', target: 'TKT-001', to_spec_id: 'TKT-001' }),
          expect.objectContaining({ kind: 'depends_on', target: 'TSK-001', to_spec_id: 'TSK-001' }),
        ]),
      );
      const requirementLink = tsk2.links.find((l: { kind: string }) => l.kind === 'requirements');
      expect(requirementLink.to_doc).not.toBeNull();

      const changed = files.map((f) =>
        f.path.endsWith('TSK-002.md') ? { ...f, content: `${f.content}\nOne more line.\n` } : f,
      );
      const third = await api.request('POST', `/api/v1/projects/${p.id}/specs/sync`, { documents: changed });
      expect(third.body).toMatchObject({ created: 0, updated: 1, unchanged: first.body.created - 1 });
      const events = await api.services.events.list({ project_id: p.id }, 0, 100);
      expect(events.filter((e) => e.type === 'spec.synced').map((e) => e.data)).toEqual([
        { created: first.body.created, updated: 0, unchanged: 0 },
        { created: 0, updated: 1, unchanged: first.body.created - 1 },
      ]);
    });

    it('refuses an invalid set whole with the report (422) and stores nothing', async () => {
      const p = await project();
      const files = await exampleFiles();
      const broken = files.map((f) =>
        f.path.endsWith('TSK-003.md')
          ? { ...f, content: String(f.content).replace(/status: \w+/, 'status: nope') }
          : f,
      );
      const res = await api.request('POST', `/api/v1/projects/${p.id}/specs/sync`, { documents: broken });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('SPEC_INVALID');
      expect(res.body.error.issues).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ code: 'ENUM_INVALID', path: '.omoi_os/tasks/TSK-003.md' }),
        ]),
      );
      const docs = await api.request('GET', `/api/v1/projects/${p.id}/specs`);
      expect(docs.body.documents).toEqual([]);
    });

    it.each([
      ['../etc/passwd.md', 'VALIDATION_FAILED'],
      ['.omoi_os/../../escape.md', 'VALIDATION_FAILED'],
      ['/etc/passwd', 'VALIDATION_FAILED'],
      ['C:/Windows/x.md', 'VALIDATION_FAILED'],
      ['.omoi_os\\tasks\\TSK-001.md', 'VALIDATION_FAILED'],
      ['src/index.ts', 'VALIDATION_FAILED'],
      ['.omoi_os/./tasks/TSK-001.md', 'VALIDATION_FAILED'],
    ])('refuses the path %s', async (path, code) => {
      const p = await project();
      const files = await exampleFiles();
      const res = await api.request('POST', `/api/v1/projects/${p.id}/specs/sync`, {
        documents: [...files, { path, content: '---\nid: X\n---\n' }],
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message).toContain(path);
      expect((await api.request('GET', `/api/v1/projects/${p.id}/specs`)).body.documents).toEqual([]);
    });

    it('refuses an oversized document', async () => {
      const p = await project();
      const res = await api.request('POST', `/api/v1/projects/${p.id}/specs/sync`, {
        documents: [{ path: '.omoi_os/tasks/TSK-001.md', content: 'x'.repeat(300 * 1024) }],
      });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    });
  });

  it('approves a ticket: its synced spec tasks become executable tasks in dependency order', async () => {
    const p = await project();
    const t = await api.request('POST', '/api/v1/tickets', {
      project_id: p.id,
      description: 'Webhooks',
      workflow_mode: 'spec_driven',
    });
    const ticketId = t.body.ticket.id;
    const early = await api.request('POST', `/api/v1/tickets/${ticketId}/approve`);
    expect(early.status).toBe(409);
    const files = await exampleFiles();
    const sync = await api.request('POST', `/api/v1/projects/${p.id}/specs/sync`, {
      documents: files,
      ticket_id: ticketId,
    });
    expect(sync.status).toBe(200);
    const specs = await api.request('GET', `/api/v1/tickets/${ticketId}/specs`);
    expect(specs.body.documents.length).toBe(sync.body.created);
    // The spec run is over (the orchestrator marks it so in a real run).
    await getDb().query(`UPDATE tasks SET status = 'completed' WHERE id = $1`, [t.body.task.id]);
    const approved = await api.request('POST', `/api/v1/tickets/${ticketId}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body.ticket).toMatchObject({ status: 'building' });
    const specTasks = files.filter((f) => f.path.startsWith('.omoi_os/tasks/')).length;
    // one task per spec task, and the integration task that merges them
    expect(approved.body.tasks).toHaveLength(specTasks + 1);
    expect(approved.body.tasks.at(-1)).toMatchObject({ task_type: 'integration', spec_task_id: null });
    const bySpec = new Map(approved.body.tasks.map((x: { spec_task_id: string }) => [x.spec_task_id, x]));
    const tsk2 = bySpec.get('TSK-002') as { depends_on: string[]; execution_config: unknown };
    expect(tsk2.depends_on).toEqual([(bySpec.get('TSK-001') as { id: string }).id]);
    expect(tsk2.execution_config).toEqual({ require_spec_skill: false });
    const twice = await api.request('POST', `/api/v1/tickets/${ticketId}/approve`);
    expect(twice.status).toBe(200);
    expect(twice.body.created).toBe(0);
  });
});

function countFreeDocs(files: { path: string }[]): number {
  // Free-form documents under docs/ that are not prd-*.md carry no id and are not stored.
  return files.filter((f) => f.path.startsWith('.omoi_os/docs/') && !/\/prd-[^/]+\.md$/.test(f.path)).length;
}
