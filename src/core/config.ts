// The server's configuration: parsed once from the environment by the entry point (`omoi start`),
// then overridden by command-line flags, and passed down. Nothing else reads process.env.
import { z } from 'zod';
import { AppError } from '../base/errors.js';
import type { BudgetSettings } from '../contracts/api.js';
import { type PriceTable, priceTableVariable } from '../contracts/prices.js';
import { runtimeBadge } from '../contracts/runtime-badge.js';
import { checkRuntimeConfig, chooseRuntimeName, runtimeEnvSchema } from '../contracts/runtime-env.js';

const port = z.coerce.number().int().min(0).max(65535);
const usdCap = z.coerce.number().positive().optional();
const tokenCap = z.coerce.number().int().positive().optional();

export const serverEnvSchema = z
  .object({
    /** PostgreSQL connection string; unset means embedded PGlite in OMOI_DATA_DIR. */
    DATABASE_URL: z.string().min(1).optional(),
    /** The data folder: embedded database, lock file, workspaces. */
    OMOI_DATA_DIR: z.string().min(1).default('./.omoi'),
    /** The address to bind; anything but loopback requires an API key on every request. */
    OMOI_HOST: z.string().min(1).default('127.0.0.1'),
    OMOI_PORT: port.default(7878),
    /** A key accepted besides the ones made with `omoi key create` (at least 16 characters). */
    OMOI_API_KEY: z.string().min(16, 'OMOI_API_KEY must have at least 16 characters').optional(),
    /** Largest request body in bytes (spec sync allows OMOI_SYNC_BODY_LIMIT). */
    OMOI_BODY_LIMIT: z.coerce
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    OMOI_SYNC_BODY_LIMIT: z.coerce
      .number()
      .int()
      .positive()
      .default(16 * 1024 * 1024),
    /** Milliseconds a client may take to send a request's headers (slow clients are cut off). */
    OMOI_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
    /** Milliseconds a client may take to send a whole request, body included. */
    OMOI_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
    /** Milliseconds between SSE heartbeat comments. */
    OMOI_SSE_HEARTBEAT_MS: z.coerce.number().int().positive().default(15_000),
    /** The built web UI to serve at `/` (default: web/dist of this installation). */
    OMOI_WEB_DIR: z.string().min(1).optional(),
    /**
     * The address workers in remote sandboxes (docker, daytona, e2b) use to reach this server, e.g.
     * https://omoi.example.com; unset, they get the address the server listens on.
     */
    OMOI_PUBLIC_URL: z
      .url({
        protocol: /^https?$/,
        error: 'must be an http(s) URL such as https://omoi.example.com (where workers reach this server)',
      })
      .optional(),
    /**
     * Host names (comma-separated, each optionally with :port) the server answers to besides its
     * bind address, localhost/127.0.0.1/[::1] and OMOI_PUBLIC_URL's host (e.g. a reverse proxy's name).
     */
    OMOI_ALLOWED_HOSTS: z.string().optional(),
    /** 1: every API request needs a key, also on loopback (no key-less local user). */
    OMOI_REQUIRE_KEY: z
      .enum(['0', '1', 'true', 'false'])
      .optional()
      .transform((v) => v === '1' || v === 'true'),
    /** The agent runtime workers use, when chosen explicitly (claude | openai | offline). */
    AGENT_RUNTIME: z.string().min(1).optional(),
    /**
     * 1: the embedded database's WebAssembly gets V8's optimising tier too. Off by default: the
     * baseline tier alone starts `omoi start` ~300 ms sooner and idles ~80 MB smaller, for ~10% of
     * embedded write throughput (bench/api-startup, bench/api-tickets). No effect on PostgreSQL.
     */
    OMOI_PGLITE_OPTIMIZE: z
      .enum(['0', '1', 'true', 'false'])
      .optional()
      .transform((v) => v === '1' || v === 'true'),
    /** 1: webhooks may target loopback, private and link-local addresses (refused by default: SSRF). */
    OMOI_WEBHOOK_ALLOW_PRIVATE: z
      .enum(['0', '1', 'true', 'false'])
      .optional()
      .transform((v) => v === '1' || v === 'true'),
    /** Attempts per webhook delivery before it is marked failed. */
    OMOI_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
    /** Milliseconds before a webhook's first retry; each next one waits twice as long. */
    OMOI_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).default(5_000),
    /** Budget defaults for every project (its settings.budget overrides each): USD and tokens per task, ticket, project, day. */
    OMOI_BUDGET_TASK_USD: usdCap,
    OMOI_BUDGET_TASK_TOKENS: tokenCap,
    OMOI_BUDGET_TICKET_USD: usdCap,
    OMOI_BUDGET_TICKET_TOKENS: tokenCap,
    OMOI_BUDGET_PROJECT_USD: usdCap,
    OMOI_BUDGET_PROJECT_TOKENS: tokenCap,
    OMOI_BUDGET_DAILY_USD: usdCap,
    OMOI_BUDGET_DAILY_TOKENS: tokenCap,
    /** Share of a cap (0..1) at which the `budget.threshold` event fires (default 0.8). */
    OMOI_BUDGET_SOFT_THRESHOLD: z.coerce.number().min(0).max(1).optional(),
    /** Model prices over the built-in table, USD per 1M tokens: {"<model>": {"input": 0.5, "output": 1.5}}. */
    OMOI_MODEL_PRICES: priceTableVariable,
    /** Key that seals project credentials (64 hex characters, base64 of 32 bytes, or a 32+ character passphrase); unset: <data>/secret.key. */
    OMOI_SECRET_KEY: z.string().min(32, 'OMOI_SECRET_KEY must have at least 32 characters').optional(),
  })
  .extend(runtimeEnvSchema.shape);

export type ServerEnv = z.infer<typeof serverEnvSchema>;

export interface ServerConfig {
  databaseUrl: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  apiKey: string | undefined;
  bodyLimit: number;
  syncBodyLimit: number;
  heartbeatMs: number;
  /** How long a client may take to send the headers, and the whole request. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** null: do not serve the web UI. */
  webDir: string | null;
  /** Whether every request needs a key (true when bound to a non-loopback address). */
  requireAuth: boolean;
  /** OMOI_REQUIRE_KEY=1: no key-less local user even on loopback. */
  requireKey: boolean;
  /** OMOI_ALLOWED_HOSTS: more names the Host header may carry (`name` or `name:port`). */
  allowedHosts: string[];
  /**
   * Why tickets cannot run here, saying what to set: the explicitly chosen AGENT_RUNTIME lacks its
   * key or endpoint (null when it has them, or when the runtime is chosen by the keys present).
   */
  runtimeUnavailable: string | null;
  /** The runtime workers will use, as its badge reads (`offline (no model)`, `openai: <model>`). */
  runtime?: string;
  /** OMOI_PUBLIC_URL without a trailing slash: the API address given to workers; null when unset. */
  publicUrl: string | null;
  /** OMOI_SECRET_KEY (project credentials); unset: <dataDir>/secret.key. */
  secretKey?: string | undefined;
  /** Outgoing webhooks (src/notify/). */
  webhooks?: WebhookConfig;
  /** The real model endpoints and keys the model broker forwards to (they never enter a sandbox). */
  model?: ModelUpstreams;
  /** Budget defaults (OMOI_BUDGET_*) and price overrides (OMOI_MODEL_PRICES), src/core/budgets.ts. */
  budget?: BudgetSettings;
  prices?: PriceTable;
}

export interface WebhookConfig {
  allowPrivate: boolean;
  maxAttempts: number;
  retryBaseMs: number;
}

/** Where the model broker (src/broker/model.ts) sends brokered calls, with which keys. */
export interface ModelUpstreams {
  openaiBaseUrl?: string | undefined;
  openaiApiKey?: string | undefined;
  anthropicBaseUrl?: string | undefined;
  anthropicApiKey?: string | undefined;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Parses the environment (and applies flag overrides).
 *
 * @example
 * const config = loadServerConfig(process.env, { port: 8080 });
 */
export function loadServerConfig(
  env: Record<string, string | undefined>,
  overrides: Partial<Pick<ServerConfig, 'dataDir' | 'host' | 'port' | 'webDir'>> = {},
  defaultWebDir: string | null = null,
): ServerConfig {
  return serverConfigFrom(parseEnv(serverEnvSchema, env), overrides, defaultWebDir);
}

/**
 * Parses `env` with `schema`; CONFIG_INVALID naming every bad variable otherwise. An entry point
 * whose schema merges several parts' schemas parses its environment once with it.
 *
 * @example
 * const env = parseEnv(serverEnvSchema.extend(orchestratorEnvSchema.shape), process.env);
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success)
    throw new AppError(
      'CONFIG_INVALID',
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      { issues: parsed.error.issues },
    );
  return parsed.data;
}

/** The server's configuration from its parsed variables (and flag overrides). */
export function serverConfigFrom(
  e: ServerEnv,
  overrides: Partial<Pick<ServerConfig, 'dataDir' | 'host' | 'port' | 'webDir'>> = {},
  defaultWebDir: string | null = null,
): ServerConfig {
  const host = overrides.host ?? e.OMOI_HOST;
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: overrides.dataDir ?? e.OMOI_DATA_DIR,
    host,
    port: overrides.port ?? e.OMOI_PORT,
    apiKey: e.OMOI_API_KEY,
    bodyLimit: e.OMOI_BODY_LIMIT,
    syncBodyLimit: e.OMOI_SYNC_BODY_LIMIT,
    heartbeatMs: e.OMOI_SSE_HEARTBEAT_MS,
    headersTimeoutMs: e.OMOI_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: e.OMOI_REQUEST_TIMEOUT_MS,
    webDir: overrides.webDir !== undefined ? overrides.webDir : (e.OMOI_WEB_DIR ?? defaultWebDir),
    requireAuth: !isLoopback(host),
    requireKey: e.OMOI_REQUIRE_KEY,
    allowedHosts: (e.OMOI_ALLOWED_HOSTS ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean),
    publicUrl: e.OMOI_PUBLIC_URL ? e.OMOI_PUBLIC_URL.replace(/\/+$/, '') : null,
    secretKey: e.OMOI_SECRET_KEY,
    webhooks: {
      allowPrivate: e.OMOI_WEBHOOK_ALLOW_PRIVATE,
      maxAttempts: e.OMOI_WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: e.OMOI_WEBHOOK_RETRY_BASE_MS,
    },
    model: {
      openaiBaseUrl: e.OPENAI_BASE_URL,
      openaiApiKey: e.OPENAI_API_KEY,
      anthropicBaseUrl: e.ANTHROPIC_BASE_URL,
      anthropicApiKey: e.ANTHROPIC_API_KEY,
    },
    budget: budgetDefaults(e),
    prices: e.OMOI_MODEL_PRICES,
    runtimeUnavailable: e.AGENT_RUNTIME ? (checkRuntimeConfig(e.AGENT_RUNTIME, e)?.message ?? null) : null,
    runtime: runtimeBadge(chooseRuntimeName({ explicit: e.AGENT_RUNTIME, env: e }), null, e.OMOI_MODEL),
  };
}

/** The OMOI_BUDGET_* variables as budget settings (only the ones set). */
function budgetDefaults(e: ServerEnv): BudgetSettings {
  const all: BudgetSettings = {
    task_usd: e.OMOI_BUDGET_TASK_USD,
    task_tokens: e.OMOI_BUDGET_TASK_TOKENS,
    ticket_usd: e.OMOI_BUDGET_TICKET_USD,
    ticket_tokens: e.OMOI_BUDGET_TICKET_TOKENS,
    project_usd: e.OMOI_BUDGET_PROJECT_USD,
    project_tokens: e.OMOI_BUDGET_PROJECT_TOKENS,
    daily_usd: e.OMOI_BUDGET_DAILY_USD,
    daily_tokens: e.OMOI_BUDGET_DAILY_TOKENS,
    soft_threshold: e.OMOI_BUDGET_SOFT_THRESHOLD,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as BudgetSettings;
}
