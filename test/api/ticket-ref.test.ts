// Every ticket route takes the ref people read (TKT-001) as well as the id; a ref that repeats
// across projects needs ?project_id=, and without it the answer is 409 naming the projects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/db.js';
import { makeApi, TEST_REPO, type TestApi, uniqueName } from './support.js';

describeEachDatabase('ticket refs in the API', (getDb) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await makeApi(getDb());
  });
  afterAll(async () => {
    await api?.close();
  });

  async function projectWithTicket(mode = 'quick') {
    const name = uniqueName();
    const p = await api.request('POST', '/api/v1/projects', { name, repo_url: TEST_REPO });
    expect(p.status).toBe(201);
    const t = await api.request('POST', '/api/v1/tickets', {
      project_id: p.body.id,
      description: 'Add a CSV export',
      workflow_mode: mode,
    });
    expect(t.status).toBe(201);
    return {
      project: p.body as { id: string; name: string },
      ticket: t.body.ticket as { id: string; ref: string },
    };
  }

  describe('one project', () => {
    it('reads a ticket by its ref, in any case and padding, and by its id', async () => {
      const { ticket } = await projectWithTicket();
      expect(ticket.ref).toBe('TKT-001');
      for (const key of ['TKT-001', 'tkt-1', ticket.id]) {
        const res = await api.request('GET', `/api/v1/tickets/${key}`);
        expect(res.status, key).toBe(200);
        expect(res.body.id).toBe(ticket.id);
      }
      const specs = await api.request('GET', '/api/v1/tickets/TKT-001/specs');
      expect(specs.status).toBe(200);
      expect(specs.body.documents).toEqual([]);
      // a quick ticket has no spec to approve: the ref reaches the approval, which says why
      const approve = await api.request('POST', '/api/v1/tickets/TKT-001/approve');
      expect(approve.status).toBe(409);
      expect(approve.body.error.message).toMatch(/quick/i);
    });
  });

  it('answers 409 naming the projects when a ref repeats, and the project_id picks one', async () => {
    const a = await projectWithTicket();
    const b = await projectWithTicket();
    const ambiguous = await api.request('GET', '/api/v1/tickets/TKT-001');
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.body.error.code).toBe('CONFLICT');
    expect(ambiguous.body.error.message).toContain(a.project.name);
    expect(ambiguous.body.error.message).toContain(b.project.name);
    expect(ambiguous.body.error.message).toMatch(/project_id/);

    const picked = await api.request('GET', `/api/v1/tickets/TKT-001?project_id=${b.project.id}`);
    expect(picked.status).toBe(200);
    expect(picked.body.id).toBe(b.ticket.id);
    const specs = await api.request('GET', `/api/v1/tickets/TKT-001/specs?project_id=${a.project.id}`);
    expect(specs.status).toBe(200);
  });

  it('answers 404 with a message for an unknown ref, a bad key or a bad project_id', async () => {
    for (const path of [
      '/api/v1/tickets/TKT-999',
      '/api/v1/tickets/not-a-ticket',
      '/api/v1/tickets/TKT-001?project_id=nope',
      '/api/v1/tickets/TKT-001?project_id=00000000-0000-4000-8000-000000000000',
      '/api/v1/tickets/00000000-0000-4000-8000-000000000000/approve',
    ]) {
      const res = await api.request(path.endsWith('approve') ? 'POST' : 'GET', path);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
      expect(typeof res.body.error.message).toBe('string');
    }
  });
});
