// The runtime as people read it in a badge: `offline (no model)`, `claude`, `claude: <model>`,
// `openai: <model>`. Pure and import-free, so the server, the CLI and the web share it.

/** The model the openai runtime uses when OMOI_MODEL is unset (src/agents/openai.ts imports it). */
export const DEFAULT_OPENAI_MODEL = 'gpt-4.1-mini';

/**
 * The badge text for a runtime, from its name and, when a worker reported one, its label.
 *
 * @example
 * runtimeBadge('openai', 'openai (qwen3)'); // 'openai: qwen3'
 * runtimeBadge('offline');                  // 'offline (no model)'
 */
export function runtimeBadge(runtime: string, label?: string | null, model?: string | null): string {
  if (runtime === 'offline') return 'offline (no model)';
  const labelled = label ? /^([\w-]+) \((.+)\)$/.exec(label) : null;
  if (labelled) return `${labelled[1]}: ${labelled[2]}`;
  if (label) return label;
  if (model) return `${runtime}: ${model}`;
  return runtime === 'openai' ? `openai: ${DEFAULT_OPENAI_MODEL}` : runtime;
}
