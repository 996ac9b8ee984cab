// The orchestrator's variables. `omoi start` merges this schema into its own (one schema per entry
// point) and hands the parsed values to `startOrchestrator`.
import { z } from 'zod';
import { runtimeEnvSchema } from '../contracts/runtime-env.js';

const flag = z
  .string()
  .optional()
  .transform((value) => value === 'true' || value === '1');

export const orchestratorEnvSchema = z
  .object({
    /** Force an agent runtime for workers: claude | openai | offline (default: chosen by the keys set). */
    AGENT_RUNTIME: z.string().min(1).optional(),
    /** Sandbox provider: local | docker | daytona | e2b. */
    OMOI_SANDBOX: z.string().min(1).default('local'),
    /** Sandboxes one orchestrator runs at once (projects also have settings.concurrency_limit). */
    OMOI_MAX_CONCURRENCY: z.coerce.number().int().positive().default(4),
    /** Concurrency limit of a project whose settings name none. */
    OMOI_PROJECT_CONCURRENCY: z.coerce.number().int().positive().default(4),
    /** Lease of a claimed task; heartbeats renew it every third of it. */
    OMOI_LEASE_MS: z.coerce.number().int().min(500).default(30_000),
    /** Fallback poll when no NOTIFY arrives (NOTIFY normally wakes the orchestrator at once). */
    OMOI_POLL_MS: z.coerce.number().int().min(10).default(5_000),
    /** Turn NOTIFY wake-up off and rely on polling only (benchmarks compare the two). */
    OMOI_DISABLE_NOTIFY: flag,
    /** Turn limit of one agent turn (MAX_TURNS in the sandbox). */
    OMOI_MAX_TURNS: z.coerce.number().int().positive().default(40),
    /** Validation attempts of a spec run (SPEC_MAX_ATTEMPTS in the sandbox). */
    OMOI_SPEC_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
    /** Verify attempts of an implementation run (VERIFY_MAX_ATTEMPTS in the sandbox). */
    OMOI_VERIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
    /** One run of the verify command is stopped after this long (VERIFY_TIMEOUT_MS in the sandbox). */
    OMOI_VERIFY_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(1000)
      .max(6 * 60 * 60 * 1000)
      .default(15 * 60 * 1000),
    /** Keep workspaces of failed runs under <data>/workspaces for debugging. */
    OMOI_KEEP_FAILED_WORKSPACES: flag,
    /** `off` runs local workers without bwrap; otherwise they refuse to run without it. */
    OMOI_SANDBOX_ISOLATION: z.enum(['auto', 'off']).default('auto'),
    /** Set to `false` to run the API without the orchestrator (another process runs it). */
    OMOI_ORCHESTRATOR: z
      .string()
      .optional()
      .transform((value) => value !== 'false' && value !== '0'),
  })
  .extend(runtimeEnvSchema.shape);

export type OrchestratorEnv = z.infer<typeof orchestratorEnvSchema>;
