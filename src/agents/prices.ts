// A run's spend as a runtime counts it, call by call, against the budget the run was given
// (BUDGET_USD / BUDGET_TOKENS: the least left under the task, ticket, project and daily caps when it
// started). USD comes from the price table (src/contracts/prices.ts) with the project's and server's
// overrides (OMOI_MODEL_PRICES); a model without a price counts tokens only.
import {
  budgetReachedMessage,
  costOf,
  type ModelPrice,
  type PriceTable,
  parsePriceTable,
  priceOf,
} from '../contracts/prices.js';
import type { RunBudgetEnv } from '../contracts/worker-env.js';

export class RunMeter {
  private tokens = 0;
  private usd = 0;

  constructor(
    private readonly price: ModelPrice | null,
    private readonly capUsd: number | undefined,
    private readonly capTokens: number | undefined,
  ) {}

  /**
   * The meter of a run of `model` under the budget in `env`.
   *
   * @example
   * const meter = RunMeter.fromEnv({ BUDGET_TOKENS: 5000 }, 'gpt-4.1-mini');
   * meter.add(4000, 1200); meter.reached(); // 'budget reached: run_tokens (5200 tokens of 5000 tokens)'
   */
  static fromEnv(env: RunBudgetEnv, model: string): RunMeter {
    const overrides: PriceTable =
      typeof env.OMOI_MODEL_PRICES === 'string'
        ? (() => {
            const parsed = parsePriceTable(env.OMOI_MODEL_PRICES);
            return parsed.ok ? parsed.prices : {};
          })()
        : (env.OMOI_MODEL_PRICES ?? {});
    return new RunMeter(priceOf(model, overrides), env.BUDGET_USD, env.BUDGET_TOKENS);
  }

  /** Whether USD can be counted (the model has a price). */
  get priced(): boolean {
    return this.price !== null;
  }

  usdOf(inputTokens: number, outputTokens: number): number {
    return this.price ? costOf(this.price, inputTokens, outputTokens) : 0;
  }

  /** Counts one model call. */
  add(inputTokens: number, outputTokens: number): void {
    this.tokens += inputTokens + outputTokens;
    this.usd += this.usdOf(inputTokens, outputTokens);
  }

  /** `budget reached: run_<unit> (<spent> of <cap>)` once a cap is used up, else null. */
  reached(): string | null {
    if (this.capTokens !== undefined && this.tokens >= this.capTokens)
      return budgetReachedMessage('run_tokens', 'tokens', this.tokens, this.capTokens);
    if (this.capUsd !== undefined && this.price && this.usd >= this.capUsd)
      return budgetReachedMessage('run_usd', 'usd', this.usd, this.capUsd);
    return null;
  }
}
