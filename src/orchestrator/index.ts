// Builds and starts the orchestrator for `omoi start`: the queue on the server's database, events
// through the services, and the sandbox provider and agent runtime that the entry point chose
// (only entry points choose them: this module runs whatever it is handed).
import { runtimeEnv } from '../contracts/runtime-env.js';
import type { Services } from '../core/services.js';
import type { Db } from '../db/client.js';
import { createQueue, type QueueSql } from '../queue/queue.js';
import { startOrphanSweeper } from '../sandbox/orphans.js';
import type { SandboxProvider } from '../sandbox/provider.js';
import type { OrchestratorEnv } from './config.js';
import { createOrchestrator, type Orchestrator, type OrchestratorDeps } from './orchestrator.js';
import { createOrchestratorStore } from './store.js';

export type { OrchestratorEnv } from './config.js';
export { orchestratorEnvSchema } from './config.js';

/** What `omoi start` hands over; the callbacks are the orchestrator's own (see OrchestratorDeps). */
export interface StartOrchestratorOptions
  extends Pick<
    OrchestratorDeps,
    'listen' | 'emit' | 'mintToken' | 'onTaskChanged' | 'prepareRepo' | 'modelEnv' | 'budget'
  > {
  /** The server's database as the queue needs it. */
  sql: QueueSql;
  /** Revokes the worker token of a finished run (see OrchestratorDeps.onFinished). */
  revokeTokens?: (taskId: string, token: string | null) => Promise<void>;
  /** Renews a running task's worker tokens (each heartbeat). */
  renewTokens?: (taskId: string, ttlMs: number) => Promise<void>;
  /** The URL workers use to reach the API (OMOI_PUBLIC_URL for remote sandboxes). */
  apiUrl: string;
  /** The sandbox provider the entry point chose (src/sandbox/registry.ts). */
  provider: SandboxProvider;
  /** The agent runtime the entry point chose (AGENT_RUNTIME of the workers). */
  runtimeName: string;
  /** True when this process alone owns the database (PGlite). */
  exclusive: boolean;
  env: OrchestratorEnv;
  /** Provider-specific settings (src/sandbox/config.ts), for the orphan sweeper. */
  providerSettings?: Readonly<Record<string, unknown>>;
  log: (message: string) => void;
}

/** How long a worker token lives without a heartbeat renewing it. */
export const WORKER_TOKEN_TTL_MS = 15 * 60_000;

/**
 * Creates and starts the orchestrator; call `stop()` on shutdown.
 *
 * @example
 * const orchestrator = await startOrchestrator({ sql, listen, emit, mintToken, apiUrl: server.url, provider, runtimeName: 'offline', exclusive: true, env, log });
 * process.once('SIGTERM', () => orchestrator.stop());
 */
export async function startOrchestrator(options: StartOrchestratorOptions): Promise<Orchestrator> {
  const { env, provider, runtimeName } = options;
  const queue = createQueue(options.sql, {
    leaseMs: env.OMOI_LEASE_MS,
    defaultProjectLimit: env.OMOI_PROJECT_CONCURRENCY,
  });
  const orchestrator = createOrchestrator({
    queue,
    store: createOrchestratorStore(options.sql),
    provider,
    emit: options.emit,
    mintToken: options.mintToken,
    ...(options.revokeTokens ? { onFinished: options.revokeTokens } : {}),
    ...(options.renewTokens ? { renewToken: options.renewTokens } : {}),
    ...(options.onTaskChanged ? { onTaskChanged: options.onTaskChanged } : {}),
    ...(options.prepareRepo ? { prepareRepo: options.prepareRepo } : {}),
    ...(options.modelEnv ? { modelEnv: options.modelEnv } : {}),
    ...(options.budget ? { budget: options.budget } : {}),
    ...(options.listen && !env.OMOI_DISABLE_NOTIFY ? { listen: options.listen } : {}),
    log: options.log,
    config: {
      apiUrl: options.apiUrl,
      runtimeName,
      // With the model broker, the real endpoint and key stay here: the sandbox gets the broker's.
      runtimeEnv: options.modelEnv
        ? withoutModelEndpoints(runtimeEnv(runtimeName, env))
        : runtimeEnv(runtimeName, env),
      maxConcurrency: env.OMOI_MAX_CONCURRENCY,
      pollMs: env.OMOI_POLL_MS,
      maxTurns: env.OMOI_MAX_TURNS,
      specMaxAttempts: env.OMOI_SPEC_MAX_ATTEMPTS,
      verifyMaxAttempts: env.OMOI_VERIFY_MAX_ATTEMPTS,
      verifyTimeoutMs: env.OMOI_VERIFY_TIMEOUT_MS,
      // Short-lived: a leaked token dies within minutes unless the heartbeat of a running task renews it.
      tokenTtlMs: Math.max(WORKER_TOKEN_TTL_MS, env.OMOI_LEASE_MS * 3),
      keepOnFailure: env.OMOI_KEEP_FAILED_WORKSPACES,
      exclusive: options.exclusive,
    },
  });
  await orchestrator.start();
  options.log(
    `orchestrator started: sandbox ${provider.name}, agent runtime ${runtimeName}${runtimeName === 'offline' ? ' (offline, no model)' : ''}, up to ${env.OMOI_MAX_CONCURRENCY} at once`,
  );
  // Remote sandboxes a crashed orchestrator (this one or another on the same database) left behind.
  const stopSweeper = startOrphanSweeper({
    provider,
    sql: options.sql,
    settings: options.providerSettings ?? {},
    keepOnFailure: env.OMOI_KEEP_FAILED_WORKSPACES,
    log: options.log,
  });
  return {
    ...orchestrator,
    async stop() {
      stopSweeper();
      await orchestrator.stop();
    },
  };
}

/**
 * The orchestrator of `omoi start`, wired to the server's database and services: events through
 * the events service (so SSE sees them), tokens from the keys service, NOTIFY from the database.
 *
 * @example
 * const orchestrator = await startServerOrchestrator({ db, services, env, apiUrl: server.url, provider, runtimeName, log: console.log });
 */
export async function startServerOrchestrator(options: {
  db: Db;
  services: Pick<Services, 'events' | 'keys'> & Partial<Pick<Services, 'flow'>>;
  /** The git broker's preparation of a run (src/broker, chosen by the entry point). */
  prepareRepo?: OrchestratorDeps['prepareRepo'];
  /** The model broker's variables for a sandbox (src/broker, chosen by the entry point). */
  modelEnv?: OrchestratorDeps['modelEnv'];
  /** Budget caps before each run (src/core/budgets.ts, chosen by the entry point). */
  budget?: OrchestratorDeps['budget'];
  env: OrchestratorEnv;
  apiUrl: string;
  provider: SandboxProvider;
  runtimeName: string;
  providerSettings?: Readonly<Record<string, unknown>>;
  log: (message: string) => void;
}): Promise<Orchestrator> {
  const { db, services } = options;
  return startOrchestrator({
    ...(options.prepareRepo ? { prepareRepo: options.prepareRepo } : {}),
    ...(options.modelEnv ? { modelEnv: options.modelEnv } : {}),
    ...(options.budget ? { budget: options.budget } : {}),
    sql: db,
    listen: (channel, handler) => db.listen(channel, handler),
    emit: async (event, tx) => {
      await services.events.append(event, tx);
    },
    mintToken: (args) => services.keys.mintWorkerToken(args),
    revokeTokens: async (_taskId, token) => {
      if (token) await services.keys.revokeWorkerToken(token);
    },
    renewTokens: (taskId, ttlMs) => services.keys.renewWorkerTokens(taskId, ttlMs),
    ...(services.flow ? { onTaskChanged: (taskId: string) => services.flow!.settle(taskId) } : {}),
    apiUrl: options.apiUrl,
    provider: options.provider,
    runtimeName: options.runtimeName,
    exclusive: db.kind === 'pglite',
    env: options.env,
    log: options.log,
    ...(options.providerSettings ? { providerSettings: options.providerSettings } : {}),
  });
}

/** The runtime variables without the model endpoints and keys (the model broker supplies its own). */
function withoutModelEndpoints(env: Record<string, string>): Record<string, string> {
  const {
    ANTHROPIC_API_KEY: _a,
    ANTHROPIC_BASE_URL: _b,
    OPENAI_API_KEY: _c,
    OPENAI_BASE_URL: _d,
    ...rest
  } = env;
  return rest;
}
