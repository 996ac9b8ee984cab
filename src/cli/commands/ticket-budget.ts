// The budget lines of `omoi ticket show` (spend so far) and `omoi ticket approve` (a forecast over
// what the caps leave needs the person's yes, sent as confirm_over_budget).
import type { ApiClient } from '../../api/client.js';
import type { Forecast, TicketSpend } from '../../contracts/api.js';

const usd = (n: number) => `$${Number(n.toFixed(4))}`;

/** `  spend    $1.15, 9000 tokens (left $0.85, 41000 tokens)`, a row like renderTicket's; null without a spend route. */
export async function spendLine(api: ApiClient, ticketId: string): Promise<string | null> {
  const spend = await ticketSpend(api, ticketId);
  if (!spend) return null;
  const left = leftOf(spend.remaining.usd, spend.remaining.tokens);
  return `  ${'spend'.padEnd(9)}${usd(spend.usd)}, ${spend.tokens} tokens${left ? ` (left ${left})` : ' (no cap)'}`;
}

/** GET /tickets/:id/spend, or null from a server without budgets. */
export function ticketSpend(api: ApiClient, ticketId: string): Promise<TicketSpend | null> {
  return api.get<TicketSpend>(`/tickets/${ticketId}/spend`).catch(() => null);
}

/** The warning to show before approving, when the forecast exceeds the remaining budget; else null. */
export async function overBudgetLine(api: ApiClient, ticketId: string): Promise<string | null> {
  const forecast = await api.get<Forecast>(`/tickets/${ticketId}/forecast`).catch(() => null);
  if (!forecast?.budget?.over) return null;
  return `Over budget: the forecast is ${usd(forecast.total.cost_usd)}, ${forecast.total.tokens} tokens; the caps leave ${leftOf(forecast.budget.remaining_usd, forecast.budget.remaining_tokens)}.`;
}

/** `$0.85, 41000 tokens`: what is left in each capped unit ('' when nothing is capped). */
function leftOf(usdLeft: number | null, tokensLeft: number | null): string {
  return [usdLeft === null ? null : usd(usdLeft), tokensLeft === null ? null : `${tokensLeft} tokens`]
    .filter(Boolean)
    .join(', ');
}

/** The forecast's budget line: what the caps leave, and whether approving needs a confirmation. */
export function forecastBudgetLine(budget: Forecast['budget']): string | null {
  const left = budget ? leftOf(budget.remaining_usd, budget.remaining_tokens) : '';
  if (!budget || !left) return null;
  return `budget: ${left} left; ${budget.over ? 'over budget: approving needs a confirmation (--yes)' : 'within budget'}`;
}
