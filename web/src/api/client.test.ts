import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, auth, eventsUrl, forgetRoutes } from './client';

function answer(status: number, body: unknown) {
  const fetch = vi.fn(async () => new Response(body === undefined ? '' : JSON.stringify(body), { status }));
  vi.stubGlobal('fetch', fetch);
  return fetch;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('api client', () => {
  it('turns an error body into an ApiError with its code, message and issues', async () => {
    answer(400, {
      error: { code: 'VALIDATION_FAILED', message: 'name: no slashes', issues: [{ path: 'name' }] },
    });
    const error = await api.createProject({ name: 'a/b', repo_url: '/r' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'name: no slashes',
      status: 400,
      issues: [{ path: 'name' }],
    });
  });

  it('names the status when the body is not the error shape', async () => {
    answer(502, undefined);
    await expect(api.listProjects()).rejects.toMatchObject({ code: 'HTTP_502', status: 502 });
  });

  it('says the server is unreachable when fetch itself fails', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => {
        throw new TypeError('Failed to fetch');
      }),
    );
    await expect(api.listTickets()).rejects.toMatchObject({ code: 'NETWORK', status: 0 });
  });

  it("reads lists from the contract's wrapper, and sends JSON", async () => {
    answer(200, { projects: [{ id: 'p1', name: 'demo', repo_url: '/r' }] });
    expect((await api.listProjects()).map((p) => p.id)).toEqual(['p1']);

    const fetch = answer(201, { ticket: { id: 't1', project_id: 'p1', title: 'T' }, task: { id: 'k1' } });
    const created = await api.createTicket({
      project_id: 'p1',
      title: 'T',
      description: 'T',
      workflow_mode: 'spec_driven',
    });
    expect(created.ticket.id).toBe('t1');
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/tickets');
    expect(init.method).toBe('POST');
    expect(JSON.parse(String(init.body))).toEqual({
      project_id: 'p1',
      title: 'T',
      description: 'T',
      workflow_mode: 'spec_driven',
    });
  });

  it('builds event stream URLs per filter', () => {
    expect(eventsUrl({ ticket_id: 'a b' })).toBe('/api/v1/events?ticket_id=a+b');
    expect(eventsUrl({})).toBe('/api/v1/events');
  });

  it('says JSON on every write, also a body-less one (the server refuses other writes)', async () => {
    const fetch = answer(200, { ok: true });
    await api.cancelTask('k1');
    await api.approveTicket('t1');
    for (const call of fetch.mock.calls as unknown as [string, RequestInit][]) {
      expect(call[1].method).toBe('POST');
      expect((call[1].headers as Record<string, string>)['content-type']).toBe('application/json');
      expect(call[1].credentials).toBe('same-origin');
    }
  });

  it('asks for the login on a 401 and logs in through POST /session', async () => {
    auth.set(false);
    answer(401, { error: { code: 'UNAUTHORIZED', message: 'send a key' } });
    await expect(api.listProjects()).rejects.toMatchObject({ status: 401 });
    expect(auth.needsLogin).toBe(true);
    const fetch = answer(200, { kind: 'api_key', role: 'member', name: 'k', expires_at: null });
    await api.login('omoi_sk_example');
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect([url, init.method, JSON.parse(String(init.body))]).toEqual([
      '/api/v1/session',
      'POST',
      { key: 'omoi_sk_example' },
    ]);
    expect(auth.needsLogin).toBe(false);
  });

  it('calls a newer route only when the server documents it, and reads its 404 as null', async () => {
    const routes = (paths: Record<string, Record<string, unknown>>) =>
      vi.fn(async (url: string) =>
        url.endsWith('/openapi.json')
          ? new Response(JSON.stringify({ paths }), { status: 200 })
          : new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such ticket' } }), {
              status: 404,
            }),
      );
    forgetRoutes();
    const without = routes({ '/api/v1/tickets/{id}': { get: {} } });
    vi.stubGlobal('fetch', without);
    expect(await api.ticketTrace('TKT-001')).toBeNull();
    expect(await api.taskDiff('t1')).toBeNull();
    // the listing is read once, and the undocumented routes are never called
    expect(without.mock.calls.map(([url]) => url)).toEqual(['/api/v1/openapi.json']);

    forgetRoutes();
    const listed = routes({
      '/api/v1/tickets/{id}/trace': { get: {} },
      '/api/v1/tasks/{id}/diff': { get: {} },
    });
    vi.stubGlobal('fetch', listed);
    expect(await api.ticketTrace('TKT-001')).toBeNull();
    expect(listed.mock.calls.map(([url]) => url)).toEqual([
      '/api/v1/openapi.json',
      '/api/v1/tickets/TKT-001/trace',
    ]);

    forgetRoutes();
    answer(500, { error: { code: 'INTERNAL', message: 'boom' } });
    // an unreadable listing lists nothing: the page leaves the part out
    expect(await api.taskDiff('t1')).toBeNull();
  });
});
