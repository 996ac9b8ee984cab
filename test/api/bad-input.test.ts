// Bad input gets a 4xx with a code, never a 500: one request per row, each with its expected status
// and error code, against the real app on each database.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/db.js';
import { exampleFiles, makeApi, TEST_REPO, type TestApi, uniqueName } from './support.js';

interface Ids {
  project: string;
  projectName: string;
  ticket: string;
  task: string;
}

interface Row {
  name: string;
  method: string;
  path: (ids: Ids) => string;
  /** A JSON value (sent as JSON), or `raw` for a literal body. */
  body?: (ids: Ids) => unknown;
  raw?: string;
  headers?: Record<string, string>;
  status: number;
  code: string;
}

const json = { 'content-type': 'application/json' };
const missing = randomUUID();

const ROWS: Row[] = [
  // projects
  {
    name: 'malformed JSON',
    method: 'POST',
    path: () => '/api/v1/projects',
    raw: '{"name": ',
    headers: json,
    status: 400,
    code: 'INVALID_JSON',
  },
  {
    name: 'a JSON array instead of an object',
    method: 'POST',
    path: () => '/api/v1/projects',
    body: () => [],
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an empty object',
    method: 'POST',
    path: () => '/api/v1/projects',
    body: () => ({}),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a number as the name',
    method: 'POST',
    path: () => '/api/v1/projects',
    body: () => ({ name: 7, repo_url: TEST_REPO }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown field',
    method: 'POST',
    path: () => '/api/v1/projects',
    body: () => ({ name: uniqueName(), repo_url: TEST_REPO, owner: 'me' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an empty name',
    method: 'POST',
    path: () => '/api/v1/projects',
    body: () => ({ name: '  ', repo_url: TEST_REPO }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a name with a slash',
    method: 'POST',
    path: () => '/api/v1/projects',
    body: () => ({ name: 'a/b', repo_url: TEST_REPO }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a bad branch name',
    method: 'POST',
    path: () => '/api/v1/projects',
    body: () => ({ name: uniqueName(), repo_url: TEST_REPO, default_branch: 'a..b' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a zero concurrency limit',
    method: 'POST',
    path: () => '/api/v1/projects',
    body: () => ({ name: uniqueName(), repo_url: TEST_REPO, settings: { concurrency_limit: 0 } }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown setting',
    method: 'POST',
    path: () => '/api/v1/projects',
    body: () => ({ name: uniqueName(), repo_url: TEST_REPO, settings: { turbo: true } }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a text/plain body',
    method: 'POST',
    path: () => '/api/v1/projects',
    raw: 'name=x',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a body without a content type',
    method: 'POST',
    path: () => '/api/v1/projects',
    raw: '{"name":"x","repo_url":"/r"}',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a body over the limit',
    method: 'POST',
    path: () => '/api/v1/projects',
    body: () => ({ name: 'x', repo_url: 'y'.repeat(1_100_000) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'a duplicate project name',
    method: 'POST',
    path: () => '/api/v1/projects',
    body: (ids) => ({ name: ids.projectName, repo_url: TEST_REPO }),
    status: 409,
    code: 'CONFLICT',
  },
  {
    name: 'a project id that is not a uuid',
    method: 'GET',
    path: () => '/api/v1/projects/not-a-uuid',
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'an unknown project id',
    method: 'GET',
    path: () => `/api/v1/projects/${missing}`,
    status: 404,
    code: 'NOT_FOUND',
  },
  // tickets
  {
    name: 'an unknown workflow mode',
    method: 'POST',
    path: () => '/api/v1/tickets',
    body: (ids) => ({ project_id: ids.project, description: 'x', workflow_mode: 'yolo' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'no workflow mode',
    method: 'POST',
    path: () => '/api/v1/tickets',
    body: (ids) => ({ project_id: ids.project, description: 'x' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an empty description',
    method: 'POST',
    path: () => '/api/v1/tickets',
    body: (ids) => ({ project_id: ids.project, description: '', workflow_mode: 'quick' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a blank description',
    method: 'POST',
    path: () => '/api/v1/tickets',
    body: (ids) => ({ project_id: ids.project, description: ' \n\t', workflow_mode: 'quick' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a ticket in an unknown project',
    method: 'POST',
    path: () => '/api/v1/tickets',
    body: () => ({ project_id: missing, description: 'x', workflow_mode: 'quick' }),
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'a ticket in a project id that is not a uuid',
    method: 'POST',
    path: () => '/api/v1/tickets',
    body: () => ({ project_id: 'abc', description: 'x', workflow_mode: 'quick' }),
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'an unknown priority',
    method: 'POST',
    path: () => '/api/v1/tickets',
    body: (ids) => ({
      project_id: ids.project,
      description: 'x',
      workflow_mode: 'quick',
      priority: 'urgent',
    }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a client-chosen ticket ref',
    method: 'POST',
    path: () => '/api/v1/tickets',
    body: (ids) => ({ project_id: ids.project, description: 'x', workflow_mode: 'quick', ref: 'TKT-999' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a number as the title',
    method: 'POST',
    path: () => '/api/v1/tickets',
    body: (ids) => ({ project_id: ids.project, description: 'x', workflow_mode: 'quick', title: 5 }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown ticket status filter',
    method: 'GET',
    path: () => '/api/v1/tickets?status=nope',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a zero limit',
    method: 'GET',
    path: () => '/api/v1/tickets?limit=0',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown ticket',
    method: 'GET',
    path: () => `/api/v1/tickets/${missing}`,
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'approving an unknown ticket',
    method: 'POST',
    path: () => `/api/v1/tickets/${missing}/approve`,
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'approving a ticket with no synced spec',
    method: 'POST',
    path: (ids) => `/api/v1/tickets/${ids.ticket}/approve`,
    status: 409,
    code: 'CONFLICT',
  },
  {
    name: 'the specs of an unknown ticket',
    method: 'GET',
    path: () => `/api/v1/tickets/${missing}/specs`,
    status: 404,
    code: 'NOT_FOUND',
  },
  // tasks
  {
    name: 'a task without a title',
    method: 'POST',
    path: () => '/api/v1/tasks',
    body: (ids) => ({ ticket_id: ids.ticket }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a task on an unknown ticket',
    method: 'POST',
    path: () => '/api/v1/tasks',
    body: () => ({ ticket_id: missing, title: 't' }),
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'an execution config without require_spec_skill',
    method: 'POST',
    path: () => '/api/v1/tasks',
    body: (ids) => ({ ticket_id: ids.ticket, title: 't', execution_config: { selected_skill: 'x' } }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a string for require_spec_skill',
    method: 'POST',
    path: () => '/api/v1/tasks',
    body: (ids) => ({ ticket_id: ids.ticket, title: 't', execution_config: { require_spec_skill: 'yes' } }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown execution config key',
    method: 'POST',
    path: () => '/api/v1/tasks',
    body: (ids) => ({
      ticket_id: ids.ticket,
      title: 't',
      execution_config: { require_spec_skill: false, yolo: true },
    }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a dependency on an unknown task',
    method: 'POST',
    path: () => '/api/v1/tasks',
    body: (ids) => ({ ticket_id: ids.ticket, title: 't', depends_on: [missing] }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'depends_on as a string',
    method: 'POST',
    path: () => '/api/v1/tasks',
    body: (ids) => ({ ticket_id: ids.ticket, title: 't', depends_on: 'x' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a task created as completed',
    method: 'POST',
    path: () => '/api/v1/tasks',
    body: (ids) => ({ ticket_id: ids.ticket, title: 't', status: 'completed' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'zero max attempts',
    method: 'POST',
    path: () => '/api/v1/tasks',
    body: (ids) => ({ ticket_id: ids.ticket, title: 't', max_attempts: 0 }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown task status filter',
    method: 'GET',
    path: () => '/api/v1/tasks?status=bogus',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown task',
    method: 'GET',
    path: () => `/api/v1/tasks/${missing}`,
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'cancelling an unknown task',
    method: 'POST',
    path: () => `/api/v1/tasks/${missing}/cancel`,
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'retrying a pending task',
    method: 'POST',
    path: (ids) => `/api/v1/tasks/${ids.task}/retry`,
    status: 409,
    code: 'CONFLICT',
  },
  {
    name: 'an empty dependency list',
    method: 'POST',
    path: (ids) => `/api/v1/tasks/${ids.task}/dependencies`,
    body: () => ({ depends_on: [] }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a task depending on itself',
    method: 'POST',
    path: (ids) => `/api/v1/tasks/${ids.task}/dependencies`,
    body: (ids) => ({ depends_on: [ids.task] }),
    status: 422,
    code: 'DEPENDENCY_CYCLE',
  },
  // events
  {
    name: 'an event type with spaces',
    method: 'POST',
    path: (ids) => `/api/v1/tasks/${ids.task}/events`,
    body: () => ({ type: 'Bad Type' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an event without a type',
    method: 'POST',
    path: (ids) => `/api/v1/tasks/${ids.task}/events`,
    body: () => ({ data: {} }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'event data that is a list',
    method: 'POST',
    path: (ids) => `/api/v1/tasks/${ids.task}/events`,
    body: () => ({ type: 'agent.message', data: [1] }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an empty event batch',
    method: 'POST',
    path: (ids) => `/api/v1/tasks/${ids.task}/events`,
    body: () => ({ events: [] }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a server-owned event type',
    method: 'POST',
    path: (ids) => `/api/v1/tasks/${ids.task}/events`,
    body: () => ({ type: 'task.completed' }),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'events of an unknown task',
    method: 'POST',
    path: () => `/api/v1/tasks/${missing}/events`,
    body: () => ({ type: 'agent.message' }),
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'a Last-Event-ID that is not a number',
    method: 'GET',
    path: () => '/api/v1/events',
    headers: { 'last-event-id': 'abc' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an event filter that is not a uuid',
    method: 'GET',
    path: () => '/api/v1/events?project_id=abc',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  // spec sync
  {
    name: 'documents that are not a list',
    method: 'POST',
    path: (ids) => `/api/v1/projects/${ids.project}/specs/sync`,
    body: () => ({ documents: 'x' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a document without content',
    method: 'POST',
    path: (ids) => `/api/v1/projects/${ids.project}/specs/sync`,
    body: () => ({ documents: [{ path: '.omoi_os/tasks/TSK-001.md' }] }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a traversal path',
    method: 'POST',
    path: (ids) => `/api/v1/projects/${ids.project}/specs/sync`,
    body: () => ({ documents: [{ path: '.omoi_os/../../etc/passwd', content: 'x' }] }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an absolute path',
    method: 'POST',
    path: (ids) => `/api/v1/projects/${ids.project}/specs/sync`,
    body: () => ({ documents: [{ path: '/etc/passwd', content: 'x' }] }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an invalid spec set',
    method: 'POST',
    path: (ids) => `/api/v1/projects/${ids.project}/specs/sync`,
    body: () => ({ documents: [{ path: '.omoi_os/tasks/TSK-001.md', content: '---\nid: TSK-001\n---\n' }] }),
    status: 422,
    code: 'SPEC_INVALID',
  },
  {
    name: 'a sync into an unknown project',
    method: 'POST',
    path: () => `/api/v1/projects/${missing}/specs/sync`,
    body: () => 'EXAMPLE',
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'a sync naming an unknown ticket',
    method: 'POST',
    path: (ids) => `/api/v1/projects/${ids.project}/specs/sync`,
    body: () => 'EXAMPLE_WITH_MISSING_TICKET',
    status: 404,
    code: 'NOT_FOUND',
  },
  // auth and routing
  {
    name: 'a Basic authorization header',
    method: 'GET',
    path: () => '/api/v1/projects',
    headers: { authorization: 'Basic dTpw' },
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'an unknown API key',
    method: 'GET',
    path: () => '/api/v1/projects',
    headers: { 'x-api-key': 'omoi_sk_nope' },
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'an unknown worker token',
    method: 'GET',
    path: (ids) => `/api/v1/tasks/${ids.task}`,
    headers: { authorization: 'Bearer omoi_wt_nope' },
    status: 401,
    code: 'UNAUTHORIZED',
  },
  { name: 'an unknown API route', method: 'GET', path: () => '/api/v1/nope', status: 404, code: 'NOT_FOUND' },
  {
    name: 'a wrong method on a known path',
    method: 'DELETE',
    path: () => '/api/v1/projects',
    status: 404,
    code: 'NOT_FOUND',
  },
];

describeEachDatabase('bad input', (getDb) => {
  let api: TestApi;
  let ids: Ids;
  let example: { path: string; content: string | Uint8Array }[];
  beforeAll(async () => {
    api = await makeApi(getDb());
    const projectName = uniqueName('bad');
    const p = await api.request('POST', '/api/v1/projects', {
      name: projectName,
      repo_url: TEST_REPO,
    });
    const t = await api.request('POST', '/api/v1/tickets', {
      project_id: p.body.id,
      description: 'x',
      workflow_mode: 'quick',
    });
    ids = { project: p.body.id, projectName, ticket: t.body.ticket.id, task: t.body.task.id };
    example = await exampleFiles();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('has at least 40 rows', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(40);
  });

  it.each(ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    let body: string | undefined = row.raw;
    if (row.body) {
      const value = row.body(ids);
      body = JSON.stringify(
        value === 'EXAMPLE'
          ? { documents: example }
          : value === 'EXAMPLE_WITH_MISSING_TICKET'
            ? { documents: example, ticket_id: missing }
            : value,
      );
    }
    // Writes say JSON, also without a body, as the clients do; `raw` rows choose their own headers.
    const headers = {
      ...(row.body || (row.method !== 'GET' && row.raw === undefined) ? json : {}),
      ...row.headers,
    };
    const res = await api.raw(row.path(ids), {
      method: row.method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({
      status: row.status,
      code: row.code,
    });
    expect(typeof res.body.error.message).toBe('string');
    expect(res.body.error.message.length).toBeGreaterThan(0);
    expect(JSON.stringify(res.body)).not.toMatch(/\n\s+at |node_modules/);
  });
});
