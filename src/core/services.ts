// The domain services over one database, built once per process by the entry point.
import type { Db } from '../db/client.js';
import { createCredentialsService } from './credentials.js';
import { createEventsService, EventHub } from './events.js';
import { createFlowService } from './flow.js';
import { createKeysService } from './keys.js';
import { createProjectsService } from './projects.js';
import { createPullRequestsService } from './pull-requests.js';
import { createQuestionsService } from './questions.js';
import { createSpecsService } from './specs.js';
import { createTasksService } from './tasks.js';
import { createTicketsService } from './tickets.js';

export interface ServicesOptions {
  /** OMOI_API_KEY, accepted besides the stored API keys. */
  envApiKey?: string;
  /** How often the event hub polls as a fallback to NOTIFY (ms). */
  eventPollMs?: number;
  /** Where project credentials get their key: OMOI_SECRET_KEY, else <dataDir>/secret.key. */
  secretKey?: string | undefined;
  dataDir?: string | undefined;
}

/**
 * Builds the services and starts the event hub (LISTEN omoi_events). Call `stop()` before closing
 * the database.
 *
 * @example
 * const db = await openDatabase({ dataDir: './.omoi' });
 * const services = await createServices(db);
 * const { ticket, task } = await services.tickets.create({ project_id, description: 'Add login', workflow_mode: 'quick' });
 * await services.stop(); await db.close();
 */
export async function createServices(db: Db, options: ServicesOptions = {}) {
  const hub = new EventHub(db, options.eventPollMs);
  await hub.start();
  const events = createEventsService(db, hub);
  const projects = createProjectsService(db, events);
  const tasks = createTasksService(db, events);
  const specs = createSpecsService(db, events);
  const questions = createQuestionsService(db, events);
  const tickets = createTicketsService(db, { events, tasks, specs, questions });
  const keys = createKeysService(db, options.envApiKey ? { envApiKey: options.envApiKey } : {});
  const credentials = createCredentialsService(db, {
    secretKey: options.secretKey,
    dataDir: options.dataDir,
  });
  const pullRequests = createPullRequestsService(db, { events, credentials });
  const flow = createFlowService(db, { events, approval: tickets.approval, pullRequests });
  return {
    db,
    projects,
    /** Project credentials, sealed at rest (src/core/credentials.ts). */
    credentials,
    tickets,
    tasks,
    /** The question inbox: agents ask, people answer, tasks park and resume (src/core/questions.ts). */
    questions,
    events,
    specs,
    keys,
    /** Status flowing back after task changes (src/core/flow.ts). */
    flow,
    /** The ticket's pull request, opened when its integration task completes (src/core/pull-requests.ts). */
    pullRequests,
    /** Stops the event hub (subscribers get nothing more). */
    stop: () => hub.stop(),
  };
}

export type Services = Awaited<ReturnType<typeof createServices>>;
