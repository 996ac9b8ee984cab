// Agent runtimes by name. Only entry points (the worker, the CLI) choose one; each runtime module is
// imported lazily so that choosing `offline` never loads a model SDK.
import { AppError } from '../base/errors.js';
import type { RuntimeEnv } from '../contracts/runtime-env.js';
import type { AgentRuntime } from './runtime.js';

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
