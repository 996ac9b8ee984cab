import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeHttp, json, parseJson } from './http-fake.js';

/**
 * The three calls a worker makes to the Omoi API (GET its task, POST its events, POST the spec
 * sync), for running the real travelling worker inside the fake sandboxes without a database.
 * It checks the worker's bearer token and keeps what it was sent.
 */
export interface FakeWorkerApi {
  url: string;
  token: string;
  events: Array<{ type: string; data: Record<string, unknown> }>;
  synced: Array<{ path: string; content: string }[]>;
  close(): Promise<void>;
}

export async function startFakeWorkerApi(task: {
  id: string;
  projectId: string;
  title: string;
  description: string;
  ref: string;
}): Promise<FakeWorkerApi> {
  const token = `omoi_wk_${task.id}`;
  const events: FakeWorkerApi['events'] = [];
  const synced: FakeWorkerApi['synced'] = [];
  const http = new FakeHttp();
  const server = createServer((req, res) => {
    void http.record(req).then((request) => {
      if (request.headers.authorization !== `Bearer ${token}`) {
        return json(res, 401, { error: { code: 'UNAUTHORIZED', message: 'bad worker token' } });
      }
      if (request.method === 'GET' && request.path === `/api/v1/tasks/${task.id}`) {
        return json(res, 200, {
          task: {
            id: task.id,
            title: task.title,
            description: task.description,
            project_id: task.projectId,
            ticket_id: `tkt_${task.ref}`,
            execution_mode: 'exploration',
            execution_config: { require_spec_skill: true, selected_skill: 'spec-driven-dev' },
            ticket: {
              id: `tkt_${task.ref}`,
              ref: task.ref,
              title: task.title,
              description: task.description,
              workflow_mode: 'spec_driven',
            },
          },
        });
      }
      if (request.method === 'POST' && request.path === `/api/v1/tasks/${task.id}/events`) {
        events.push(parseJson(request.body));
        return json(res, 201, { ok: true });
      }
      if (request.method === 'POST' && request.path === `/api/v1/projects/${task.projectId}/specs/sync`) {
        const { documents } = parseJson<{ documents: { path: string; content: string }[] }>(request.body);
        synced.push(documents);
        return json(res, 200, { valid: true, created: documents.length, updated: 0, unchanged: 0 });
      }
      return json(res, 404, { error: { code: 'NOT_FOUND', message: `${request.method} ${request.path}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    events,
    synced,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
