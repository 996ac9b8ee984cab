// The budget lines of `omoi ticket show` (spend so far) and `omoi ticket approve` (a forecast over
// what the caps leave needs the person's yes, sent as confirm_over_budget).
import type { ApiClient } from '../../api/client.js';
import type { Forecast, TicketSpend } from '../../contracts/api.js';

const usd = (n: number) => `$${Number(n.toFixed(4))}`;

/** `  spend    $1.15, 9000 tokens (left $0.85, 41000 tokens)`, a row like renderTicket's; null without a spend route. */
export async function spendLine(api: ApiClient, ticketId: string): Promise<string | null> {
  const spend = await ticketSpend(api, ticketId);
  if (!spend) return null;
  const left = [
    spend.remaining.usd === null ? null : usd(spend.remaining.usd),
    spend.remaining.tokens === null ? null : `${spend.remaining.tokens} tokens`,
  ].filter(Boolean);
  return `  ${'spend'.padEnd(9)}${usd(spend.usd)}, ${spend.tokens} tokens${left.length ? ` (left ${left.join(', ')})` : ' (no cap)'}`;
}

/** GET /tickets/:id/spend, or null from a server without budgets. */
export function ticketSpend(api: ApiClient, ticketId: string): Promise<TicketSpend | null> {
  return api.get<TicketSpend>(`/tickets/${ticketId}/spend`).catch(() => null);
}

/** The warning to show before approving, when the forecast exceeds the remaining budget; else null. */
export async function overBudgetLine(api: ApiClient, ticketId: string): Promise<string | null> {
  const forecast = await api.get<Forecast>(`/tickets/${ticketId}/forecast`).catch(() => null);
  if (!forecast?.budget?.over) return null;
  const left = [
    forecast.budget.remaining_usd === null ? null : usd(forecast.budget.remaining_usd),
    forecast.budget.remaining_tokens === null ? null : `${forecast.budget.remaining_tokens} tokens`,
  ].filter(Boolean);
  return `Over budget: the forecast is ${usd(forecast.total.cost_usd)}, ${forecast.total.tokens} tokens; the caps leave ${left.join(', ')}.`;
}
