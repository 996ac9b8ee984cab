// Which agent runtime a worker runs and which of the server's variables it receives: the runtime
// half of the sandbox env contract. The spawner passes exactly these keys (when set) into a sandbox,
// the server checks them when a ticket is created, the worker parses them. Pure: no runtime is loaded.
import { z } from 'zod';
import { AppError } from '../base/errors.js';

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

/**
 * Picks the runtime name per docs/design.md: an explicit choice, else `claude` with ANTHROPIC_API_KEY,
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

/** The variables each runtime may receive in a sandbox. Anything else stays on the server. */
export const RUNTIME_VARIABLES: Record<string, readonly (keyof RuntimeEnv)[]> = {
  claude: ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'OMOI_MODEL'],
  openai: ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OMOI_MODEL'],
  offline: [],
  scripted: ['OMOI_TEST_RUNTIME_SCRIPT'],
};

/**
 * The variables to pass into a sandbox for `name`: only those that runtime reads, only when set.
 *
 * @example
 * runtimeEnv('openai', { ANTHROPIC_API_KEY: 'sk-ant-…', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' });
 * // { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }
 */
export function runtimeEnv(name: string, env: RuntimeEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of RUNTIME_VARIABLES[name] ?? []) {
    const value = env[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/**
 * Checks that runtime `name` can run with `env`; returns an AppError (RUNTIME_UNAVAILABLE, 422)
 * that says what to set, or undefined when it can. Call it when a ticket is created.
 *
 * @example
 * const problem = checkRuntimeConfig('claude', {});
 * if (problem) throw problem; // "AGENT_RUNTIME=claude needs ANTHROPIC_API_KEY …"
 */
export function checkRuntimeConfig(name: string, env: RuntimeEnv): AppError | undefined {
  const known = Object.keys(RUNTIME_VARIABLES);
  if (!known.includes(name)) {
    return new AppError(
      'RUNTIME_UNAVAILABLE',
      `Unknown agent runtime "${name}"; use one of: ${known.join(', ')}`,
    );
  }
  if (name === 'claude' && !env.ANTHROPIC_API_KEY) {
    return new AppError(
      'RUNTIME_UNAVAILABLE',
      'AGENT_RUNTIME=claude needs ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL for a proxy or gateway); set it where `omoi start` runs',
    );
  }
  if (name === 'openai') {
    if (!env.OPENAI_BASE_URL && !env.OPENAI_API_KEY) {
      return new AppError(
        'RUNTIME_UNAVAILABLE',
        'AGENT_RUNTIME=openai needs OPENAI_API_KEY (for OpenAI) or OPENAI_BASE_URL (for a local server such as Ollama, vLLM or llama.cpp)',
      );
    }
    // A local server serves its own models: the OpenAI default name would only fail later.
    if (env.OPENAI_BASE_URL && !isOpenAiItself(env.OPENAI_BASE_URL) && !env.OMOI_MODEL) {
      return new AppError(
        'RUNTIME_UNAVAILABLE',
        `AGENT_RUNTIME=openai with OPENAI_BASE_URL=${env.OPENAI_BASE_URL} needs OMOI_MODEL, the model name that server serves`,
      );
    }
  }
  if (name === 'scripted' && !env.OMOI_TEST_RUNTIME_SCRIPT) {
    return new AppError(
      'RUNTIME_UNAVAILABLE',
      'The scripted runtime is for tests and needs OMOI_TEST_RUNTIME_SCRIPT',
    );
  }
  return undefined;
}

function isOpenAiItself(url: string): boolean {
  try {
    return new URL(url).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}
