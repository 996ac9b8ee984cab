// The real Omoi API on a real socket, over a fresh test database, with one project, one spec-driven
// ticket and its task, and a worker token for that task: what a worker in a (fake) remote sandbox
// talks to. Suites read what the worker did through the services, never through a fake of the API.
import { startServer } from '../../src/api/main.js';
import { loadServerConfig } from '../../src/core/config.js';
import type { OmoiEvent } from '../../src/core/events.js';
import { createServices, type Services } from '../../src/core/services.js';
import { openTestDatabase } from './db.js';

export interface RealWorkerApi {
  url: string;
  token: string;
  taskId: string;
  projectId: string;
  ticketId: string;
  ticketRef: string;
  services: Services;
  /** The task's stored events, oldest first. */
  events(): Promise<OmoiEvent[]>;
  close(): Promise<void>;
}

export async function startRealWorkerApi(options: {
  repoUrl: string;
  description: string;
  mode?: 'spec_driven' | 'quick';
}): Promise<RealWorkerApi> {
  const database = await openTestDatabase('pglite');
  const services = await createServices(database.db, { eventPollMs: 500 });
  const config = loadServerConfig({}, { port: 0, host: '127.0.0.1', webDir: null });
  const server = await startServer(config, { services });
  const project = await services.projects.create({
    name: `p-${Math.random().toString(36).slice(2, 8)}`,
    repo_url: options.repoUrl,
    default_branch: 'main',
  });
  const { ticket, task } = await services.tickets.create({
    project_id: project.id,
    description: options.description,
    workflow_mode: options.mode ?? 'spec_driven',
  });
  const token = await services.keys.mintWorkerToken({
    taskId: task.id,
    projectId: project.id,
    ticketId: ticket.id,
    ttlMs: 10 * 60_000,
  });
  return {
    url: server.url,
    token,
    taskId: task.id,
    projectId: project.id,
    ticketId: ticket.id,
    ticketRef: ticket.ref,
    services,
    events: () => services.events.list({ task_id: task.id }, 0, 10_000),
    async close() {
      await server.close();
      await services.stop();
      await database.cleanup();
    },
  };
}
