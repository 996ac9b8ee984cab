// Agent runtimes by name. Only entry points (the worker, the CLI) choose one; each runtime module is
// imported lazily so that choosing `offline` never loads a model SDK.
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import type { AgentRuntime } from './runtime.js';

/**
 * The variables a runtime may read inside a sandbox. The spawner passes exactly these keys (when
 * set) next to the env contract, and nothing else of the server's environment.
 */
export const runtimeEnvSchema = z.object({
  /** Claude Agent SDK key; selects `claude` by default when set. */
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  /** Alternative Anthropic endpoint (tests point it at a fake model server on 127.0.0.1). */
  ANTHROPIC_BASE_URL: z.string().url().optional(),
  /** OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server). */
  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  /** Model name for runtimes that have one. */
  OMOI_MODEL: z.string().min(1).optional(),
  /** Test only: a JSON script for the `scripted` runtime (see src/agents/scripted.ts). */
  OMOI_TEST_RUNTIME_SCRIPT: z.string().min(1).optional(),
});
export type RuntimeEnv = z.infer<typeof runtimeEnvSchema>;

/** Keys of `runtimeEnvSchema`, for spawners that copy them into a sandbox. */
export const RUNTIME_ENV_KEYS = Object.keys(runtimeEnvSchema.shape) as (keyof RuntimeEnv)[];

/** Builds a runtime from its own variables. */
export type RuntimeFactory = (env: RuntimeEnv) => AgentRuntime;

/**
 * Name → lazy factory loader. Adding a runtime is one entry here and one file beside the port.
 *
 * @example
 * const factory = await runtimes.offline!();
 * const runtime = factory({});
 */
export const runtimes: Record<string, () => Promise<RuntimeFactory>> = {
  offline: async () => (await import('./offline.js')).createOfflineRuntime,
  claude: async () => (await import('./claude.js')).createClaudeRuntime,
  openai: async () => (await import('./openai.js')).createOpenAiRuntime,
  // Test only: refuses to start without OMOI_TEST_RUNTIME_SCRIPT, so it cannot run by accident.
  scripted: async () => (await import('./scripted.js')).createScriptedRuntime,
};

/**
 * Picks the runtime name per DESIGN.md: an explicit choice, else `claude` with ANTHROPIC_API_KEY,
 * `openai` with OPENAI_BASE_URL or OPENAI_API_KEY, else `offline`.
 *
 * @example
 * chooseRuntimeName({ explicit: undefined, env: { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' } }); // 'openai'
 */
export function chooseRuntimeName(config: { explicit?: string | undefined; env: RuntimeEnv }): string {
  if (config.explicit) return config.explicit;
  if (config.env.ANTHROPIC_API_KEY) return 'claude';
  if (config.env.OPENAI_BASE_URL || config.env.OPENAI_API_KEY) return 'openai';
  return 'offline';
}

/** Loads and builds a runtime by name; an unknown name is RUNTIME_UNAVAILABLE. */
export async function createRuntime(name: string, env: RuntimeEnv): Promise<AgentRuntime> {
  const load = runtimes[name];
  if (!load) {
    throw new AppError(
      'RUNTIME_UNAVAILABLE',
      `Unknown agent runtime "${name}"; known: ${Object.keys(runtimes).join(', ')}`,
    );
  }
  const factory = await load();
  return factory(env);
}

/** The runtime variables that are set in `env`, to copy into a sandbox. */
export function pickRuntimeEnv(env: RuntimeEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of RUNTIME_ENV_KEYS) {
    const value = env[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
