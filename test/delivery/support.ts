// Set-up the delivery suites share: the real server on a real socket over a test database, a real git
// remote for the project, a spec-driven ticket whose spec is synced, and task runs completed through
// the queue and the flow service after their branches were pushed to the remote for real.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from '../../src/api/main.js';
import type { DeliveryResult } from '../../src/contracts/delivery.js';
import { loadServerConfig } from '../../src/core/config.js';
import { createServices, type Services } from '../../src/core/services.js';
import type { Task } from '../../src/core/tasks.js';
import type { Db } from '../../src/db/client.js';
import { createQueue } from '../../src/queue/queue.js';
import { dagSpec } from '../exec/support/dag-spec.js';
import { createGitRemote, git } from '../support/git-remote.js';

export interface DeliveryWorld {
  services: Services;
  server: RunningServer;
  tmp: string;
  remote: string;
  /** A clone of the remote, to write and push task branches from. */
  work: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field in the tests
  get(path: string): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function startDeliveryWorld(db: Db): Promise<DeliveryWorld> {
  const tmp = mkdtempSync(join(tmpdir(), 'omoi-delivery-'));
  const services = await createServices(db, { eventPollMs: 500, secretKey: 'k'.repeat(40) });
  const config = loadServerConfig(
    {},
    { port: 0, host: '127.0.0.1', webDir: null, dataDir: join(tmp, 'data') },
  );
  const server = await startServer(config, { services });
  const remote = createGitRemote(tmp);
  const work = join(tmp, 'work');
  git(tmp, 'clone', '--quiet', remote, work);
  return {
    services,
    server,
    tmp,
    remote,
    work,
    // One connection per request: a kept-alive socket the server closes while a slow step runs
    // between two requests would reset the next one.
    get: (path) =>
      new Promise((resolve, reject) => {
        httpGet(`${server.url}${path}`, { agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        }).on('error', reject);
      }),
    async close() {
      await server.close();
      await services.stop();
    },
  };
}

let counter = 0;
/** A fresh feature word, so spec ids never collide within the shared database. */
export function nextFeature(): string {
  counter += 1;
  return `F${counter}X${randomUUID()
    .slice(0, 4)
    .replace(/[^0-9]/g, '7')}`;
}

/** A project on the world's remote, a spec-driven ticket with `tasks` synced and its spec run done. */
export async function specTicket(
  world: DeliveryWorld,
  tasks: Record<string, string[]>,
  settings: Record<string, unknown> = {},
) {
  const { services } = world;
  const project = await services.projects.create({
    name: `p-${randomUUID()}`,
    repo_url: world.remote,
    default_branch: 'main',
    settings,
  });
  const feature = nextFeature();
  const { ticket, task } = await services.tickets.create({
    project_id: project.id,
    description: `Build ${feature}`,
    workflow_mode: 'spec_driven',
  });
  await services.db.query(`UPDATE tasks SET status = 'completed', finished_at = now() WHERE id = $1`, [
    task.id,
  ]);
  await services.specs.sync(project.id, dagSpec({ feature, tasks }), { ticketId: ticket.id });
  return { project, ticket, feature };
}

/** A passing verification record, as the worker writes it. */
export function passed(commit: string): NonNullable<DeliveryResult['verification']> {
  return {
    command: 'npm test',
    source: 'settings',
    exit_code: 0,
    passed: true,
    duration_ms: 1200,
    commit,
    attempts: 1,
    output_tail: 'Tests 3 passed (3)',
    tests: { passed: 3, failed: 0 },
  };
}

/** Commits `files` on top of `from` in the work clone and pushes the result to `branch` on the remote. */
export function pushBranch(
  world: DeliveryWorld,
  branch: string,
  from: string,
  files: Record<string, string>,
) {
  const { work } = world;
  git(work, 'fetch', '--quiet', 'origin');
  git(work, 'checkout', '--quiet', '--detach', from);
  for (const [file, content] of Object.entries(files)) writeFileSync(join(work, file), content);
  git(work, 'add', '-A');
  git(work, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', `work on ${branch}`);
  git(work, 'push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`);
  return { base: git(work, 'rev-parse', from), commit: git(work, 'rev-parse', 'HEAD') };
}

/**
 * Claims the next ready task of the queue (it must be `expected`), completes it with `result` and
 * settles the flow, as the orchestrator does.
 */
export async function runNext(
  services: Services,
  result: (task: { id: string; branch: string | null }) => unknown,
) {
  const queue = createQueue(services.db);
  const claimed = await queue.claim('delivery-test');
  if (!claimed) return null;
  const ok = await queue.complete(claimed.id, 'delivery-test', result(claimed));
  if (!ok) throw new Error(`could not complete ${claimed.id}`);
  await services.flow.settle(claimed.id);
  return services.tasks.get(claimed.id);
}

/** The tasks approval created for a ticket, by spec task id ('integration' for the integration task). */
export function byKey(tasks: Task[]): Map<string, Task> {
  return new Map(tasks.map((t) => [t.spec_task_id ?? t.task_type, t]));
}
