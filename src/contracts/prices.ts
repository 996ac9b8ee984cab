// Model prices in USD per million tokens, defined once: the openai runtime counts a run's cost with
// them (so it can stop at a USD cap), and the model broker prices a call whose upstream reports no
// cost. A local model (Ollama, vLLM) costs what the operator says: `settings.prices` of a project or
// OMOI_MODEL_PRICES of the server override or extend this table. A model found nowhere has no price:
// its calls count tokens only.
import { z } from 'zod';

/** USD per 1M input tokens and per 1M output tokens. */
export const ModelPrice = z.strictObject({
  input: z.number().min(0).max(10_000),
  output: z.number().min(0).max(10_000),
});
export type ModelPrice = z.infer<typeof ModelPrice>;

/** Model name (or name prefix) -> price. */
export const PriceTable = z.record(z.string().min(1).max(200), ModelPrice);
export type PriceTable = z.infer<typeof PriceTable>;

/**
 * List prices when this table was written. Dated names (`claude-sonnet-4-5-20250929`) find their
 * family by the longest matching prefix.
 */
export const MODEL_PRICES: PriceTable = {
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  o3: { input: 2, output: 8 },
  'o3-mini': { input: 1.1, output: 4.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'claude-opus-4': { input: 15, output: 75 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-haiku-4': { input: 1, output: 5 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
};

/**
 * The price of `model`: the overrides first, then the built-in table; an exact name, else the
 * longest prefix. null: unknown (count tokens only).
 *
 * @example
 * priceOf('gpt-4.1-mini-2025-04-14'); // { input: 0.4, output: 1.6 }
 * priceOf('qwen2.5-coder', { 'qwen2.5-coder': { input: 0, output: 0 } }); // { input: 0, output: 0 }
 */
export function priceOf(model: string | null | undefined, overrides: PriceTable = {}): ModelPrice | null {
  if (!model) return null;
  for (const table of [overrides, MODEL_PRICES]) {
    if (Object.hasOwn(table, model)) return table[model]!;
    let best: string | null = null;
    for (const name of Object.keys(table))
      if (model.startsWith(name) && (best === null || name.length > best.length)) best = name;
    if (best !== null) return table[best]!;
  }
  return null;
}

/** What `input` and `output` tokens cost at `price`. */
export function costOf(price: ModelPrice, inputTokens: number, outputTokens: number): number {
  return (inputTokens * price.input + outputTokens * price.output) / 1_000_000;
}

/** Reads OMOI_MODEL_PRICES (JSON `{"model": {"input": 0.5, "output": 1.5}}`); bad JSON is an error message. */
export function parsePriceTable(
  text: string | undefined,
): { ok: true; prices: PriceTable } | { ok: false; error: string } {
  if (!text) return { ok: true, prices: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return {
      ok: false,
      error: 'not JSON; expected {"<model>": {"input": <USD per 1M>, "output": <USD per 1M>}}',
    };
  }
  const parsed = PriceTable.safeParse(raw);
  if (!parsed.success)
    return {
      ok: false,
      error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    };
  return { ok: true, prices: parsed.data };
}

/**
 * The sentence a run fails with when a cap is used up, the same from the runtime, the orchestrator
 * and the model broker.
 *
 * @example
 * budgetReachedMessage('ticket_usd', 'usd', 1.0213, 1); // 'budget reached: ticket_usd ($1.0213 of $1)'
 */
export function budgetReachedMessage(
  cap: string,
  unit: 'usd' | 'tokens',
  spent: number,
  limit: number,
): string {
  const amount = (n: number) => (unit === 'usd' ? `$${Number(n.toFixed(4))}` : `${Math.round(n)} tokens`);
  return `budget reached: ${cap} (${amount(spent)} of ${amount(limit)})`;
}

/** OMOI_MODEL_PRICES as an environment variable: JSON text parsed into a table (unset: none). */
export const priceTableVariable = z
  .string()
  .optional()
  .transform((text, ctx) => {
    const parsed = parsePriceTable(text);
    if (parsed.ok) return parsed.prices;
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  });
