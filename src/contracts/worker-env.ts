// The sandbox env contract (docs/design.md): what the spawner sets and the worker reads, defined
// once. The orchestrator builds a sandbox's environment with `encodeWorkerEnv`, the worker parses it
// with `parseWorkerEnv`; a new variable is one field here.
import { z } from 'zod';
import { type PriceTable, priceTableVariable } from './prices.js';
import { runtimeEnvSchema } from './runtime-env.js';

const flag = z
  .string()
  .optional()
  .transform((value) => value === 'true' || value === '1');

export const workerEnvSchema = z
  .object({
    /** Base URL of the API, for example http://127.0.0.1:7878 (with or without /api/v1). */
    OMOIOS_API_URL: z.url(),
    /** The task's scoped, expiring token: it can read this task and post its events and specs. */
    OMOIOS_API_KEY: z.string().min(1),
    OMOIOS_PROJECT_ID: z.string().min(1),
    TASK_ID: z.string().min(1),
    SANDBOX_ID: z.string().min(1).default('unknown'),
    /** `exploration` writes specs under .omoi_os/; `implementation` changes code. */
    EXECUTION_MODE: z.enum(['exploration', 'implementation']).default('exploration'),
    /** `true` enforces the skill (spec_driven tickets); absent otherwise. */
    REQUIRE_SPEC_SKILL: flag,
    SELECTED_SKILL: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'a skill name: lower-case letters, digits and dashes')
      .default('spec-driven-dev'),
    /** `claude`, `openai`, `offline` (or `scripted` in tests). */
    AGENT_RUNTIME: z.string().min(1).default('offline'),
    REPO_URL: z.string().min(1),
    BASE_BRANCH: z.string().min(1).default('main'),
    WORK_BRANCH: z.string().min(1),
    MAX_TURNS: z.coerce.number().int().positive().default(40),
    SPEC_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
    /** Implementation runs: verify, feed a failure back, up to this many agent turns (issue 13). */
    VERIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
    /** One run of the verify command is stopped after this long. */
    VERIFY_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(1000)
      .max(6 * 60 * 60 * 1000)
      .default(15 * 60 * 1000),
    /**
     * What this run may still spend (src/core/budgets.ts): the least left under the task, ticket,
     * project and daily caps when it started. Unset: no cap. The runtime stops at it; the model
     * broker refuses past it whatever the runtime does.
     */
    BUDGET_USD: z.coerce.number().min(0).optional(),
    BUDGET_TOKENS: z.coerce.number().int().min(0).optional(),
    /** The project's and server's price overrides (JSON, src/contracts/prices.ts) for counting USD. */
    OMOI_MODEL_PRICES: priceTableVariable,
    /** Local sandbox: the API relay's socket; the worker forwards 127.0.0.1:<port> to it and uses that URL. */
    OMOI_SANDBOX_API_SOCKET: z.string().min(1).optional(),
    /** Local sandbox: the egress proxy's socket, offered to agent commands as HTTP(S)_PROXY; unset: no network. */
    OMOI_SANDBOX_EGRESS_SOCKET: z.string().min(1).optional(),
    /**
     * Local sandbox: the worker was started while its workspace is still being cloned; it reads one
     * line on stdin ("ready") before it touches the workspace. Unset: the workspace is there (or
     * the worker clones it itself).
     */
    OMOI_WORKSPACE_GATE: z.enum(['stdin']).optional(),
  })
  .extend(runtimeEnvSchema.shape);

export type WorkerConfig = z.infer<typeof workerEnvSchema>;

/** The run's budget as a runtime reads it (the worker hands its whole config to the runtime factory). */
export type RunBudgetEnv = Partial<Pick<WorkerConfig, 'BUDGET_USD' | 'BUDGET_TOKENS'>> & {
  OMOI_MODEL_PRICES?: PriceTable | string | undefined;
};

/** What a run may spend, as the spawner hands it over. */
export interface RunBudget {
  usd: number | null;
  tokens: number | null;
  /** Price overrides (project settings over OMOI_MODEL_PRICES). */
  prices?: PriceTable;
}

/** Parses the env contract; a bad or missing variable is a readable list, not a stack trace. */
export function parseWorkerEnv(
  env: Record<string, string | undefined>,
): { ok: true; config: WorkerConfig } | { ok: false; error: string } {
  const result = workerEnvSchema.safeParse(env);
  if (result.success) return { ok: true, config: result.data };
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
  return { ok: false, error: `invalid worker environment: ${problems.join('; ')}` };
}

/** What the spawner knows about a run, before it becomes the sandbox's environment. */
export interface WorkerEnvInput {
  apiUrl: string;
  token: string;
  projectId: string;
  taskId: string;
  sandboxId: string;
  executionMode: 'exploration' | 'implementation';
  /** The skill to enforce (spec runs), or null. */
  requiredSkill: string | null;
  runtime: string;
  /** The runtime's own variables (src/contracts/runtime-env.ts `runtimeEnv`). */
  runtimeEnv: Readonly<Record<string, string>>;
  repoUrl: string;
  baseBranch: string;
  workBranch: string;
  maxTurns: number;
  specMaxAttempts: number;
  verifyMaxAttempts?: number;
  verifyTimeoutMs?: number;
  budget?: RunBudget;
}

/**
 * The sandbox's environment for a run: exactly the contract plus the runtime's own variables, no
 * database URL, no server key, nothing else of the server's environment. `parseWorkerEnv` reads it
 * back to the same values.
 *
 * @example
 * const env = encodeWorkerEnv({ apiUrl, token, projectId, taskId, sandboxId, executionMode: 'exploration', requiredSkill: 'spec-driven-dev', runtime: 'offline', runtimeEnv: {}, repoUrl, baseBranch: 'main', workBranch: 'omoi/TKT-001', maxTurns: 40, specMaxAttempts: 3 });
 */
export function encodeWorkerEnv(input: WorkerEnvInput): Record<string, string> {
  return {
    ...input.runtimeEnv,
    OMOIOS_API_URL: input.apiUrl,
    OMOIOS_API_KEY: input.token,
    OMOIOS_PROJECT_ID: input.projectId,
    TASK_ID: input.taskId,
    SANDBOX_ID: input.sandboxId,
    EXECUTION_MODE: input.executionMode,
    ...(input.requiredSkill ? { REQUIRE_SPEC_SKILL: 'true', SELECTED_SKILL: input.requiredSkill } : {}),
    AGENT_RUNTIME: input.runtime,
    REPO_URL: input.repoUrl,
    BASE_BRANCH: input.baseBranch,
    WORK_BRANCH: input.workBranch,
    MAX_TURNS: String(input.maxTurns),
    SPEC_MAX_ATTEMPTS: String(input.specMaxAttempts),
    ...(input.verifyMaxAttempts ? { VERIFY_MAX_ATTEMPTS: String(input.verifyMaxAttempts) } : {}),
    ...(input.verifyTimeoutMs ? { VERIFY_TIMEOUT_MS: String(input.verifyTimeoutMs) } : {}),
    ...budgetEnv(input.budget),
  };
}

function budgetEnv(budget: RunBudget | undefined): Record<string, string> {
  if (!budget) return {};
  return {
    ...(budget.usd === null ? {} : { BUDGET_USD: String(budget.usd) }),
    ...(budget.tokens === null ? {} : { BUDGET_TOKENS: String(budget.tokens) }),
    ...(budget.prices && Object.keys(budget.prices).length > 0
      ? { OMOI_MODEL_PRICES: JSON.stringify(budget.prices) }
      : {}),
  };
}
