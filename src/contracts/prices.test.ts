import { describe, expect, it } from 'vitest';
import { budgetReachedMessage, costOf, parsePriceTable, priceOf } from './prices.js';

describe('price table', () => {
  it('finds a dated model by its longest prefix, overrides first, unknown models unpriced', () => {
    expect(priceOf('gpt-4.1-mini-2025-04-14')).toEqual({ input: 0.4, output: 1.6 });
    expect(priceOf('gpt-4.1-2025-04-14')).toEqual({ input: 2, output: 8 });
    expect(priceOf('claude-sonnet-4-5-20250929')).toEqual({ input: 3, output: 15 });
    expect(priceOf('gpt-4.1', { 'gpt-4.1': { input: 1, output: 1 } })).toEqual({ input: 1, output: 1 });
    expect(priceOf('qwen2.5-coder')).toBeNull();
    expect(priceOf(null)).toBeNull();
    // 1000 in at $3/M + 500 out at $15/M = $0.003 + $0.0075
    expect(costOf({ input: 3, output: 15 }, 1000, 500)).toBeCloseTo(0.0105, 12);
  });

  it('reads OMOI_MODEL_PRICES and says what is wrong with a bad one', () => {
    expect(parsePriceTable('{"local": {"input": 0, "output": 0}}')).toEqual({
      ok: true,
      prices: { local: { input: 0, output: 0 } },
    });
    expect(parsePriceTable(undefined)).toEqual({ ok: true, prices: {} });
    expect(parsePriceTable('{')).toMatchObject({ ok: false, error: expect.stringContaining('not JSON') });
    expect(parsePriceTable('{"m": {"input": -1, "output": 0}}')).toMatchObject({
      ok: false,
      error: expect.stringContaining('m.input'),
    });
  });

  it('words the failure the same everywhere', () => {
    expect(budgetReachedMessage('ticket_usd', 'usd', 1.02134, 1)).toBe(
      'budget reached: ticket_usd ($1.0213 of $1)',
    );
    expect(budgetReachedMessage('task_tokens', 'tokens', 1500, 1200)).toBe(
      'budget reached: task_tokens (1500 tokens of 1200 tokens)',
    );
  });
});
