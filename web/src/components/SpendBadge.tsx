// A ticket's spend so far against what its caps leave: on the ticket page's header (GET
// /api/v1/tickets/:id/spend, refreshed while the page is open) and on the board's cards (the spend
// each item of the ticket list carries, refreshed with the list). And the approval's
// budget confirmation: a forecast over the remaining budget is approved only after the person says so.
import { useQuery } from '@tanstack/react-query';
import type { TicketSpend } from '../../../src/contracts/api';
import { API_BASE, ApiError, api } from '../api/client';

const usd = (n: number) => `$${n < 1 ? n.toFixed(3) : n.toFixed(2)}`;
const tokens = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : String(n));

async function fetchSpend(ticketId: string): Promise<TicketSpend | null> {
  const response = await fetch(`${API_BASE}/tickets/${encodeURIComponent(ticketId)}/spend`, {
    headers: { accept: 'application/json' },
    credentials: 'same-origin',
  });
  return response.ok ? ((await response.json()) as TicketSpend) : null;
}

/** A ticket's spend, refreshed while the page is open (the ticket page's header). */
export function SpendBadge({ ticketId }: { ticketId: string }) {
  const { data } = useQuery({
    queryKey: ['ticket', ticketId, 'spend'],
    queryFn: () => fetchSpend(ticketId),
    refetchInterval: 5_000,
  });
  return data ? <Spend spend={data} /> : null;
}

/**
 * `$0.42 · 120k tokens` (with what is left when a cap applies); nothing until something is spent.
 * The board's cards show the spend their ticket list carries (no request per card).
 */
export function Spend({ spend }: { spend: TicketSpend }) {
  if (
    spend.usd === 0 &&
    spend.tokens === 0 &&
    spend.remaining.usd === null &&
    spend.remaining.tokens === null
  )
    return null;
  const left = [
    spend.remaining.usd === null ? null : `${usd(spend.remaining.usd)} left`,
    spend.remaining.tokens === null ? null : `${tokens(spend.remaining.tokens)} tokens left`,
  ].filter(Boolean);
  const over = spend.remaining.usd === 0 || spend.remaining.tokens === 0;
  return (
    <span
      className={`badge spend${over ? ' failed' : ''}`}
      title={left.length ? `Budget: ${left.join(', ')}` : 'No budget cap'}
      data-testid="spend"
    >
      {usd(spend.usd)} · {tokens(spend.tokens)} tokens
    </span>
  );
}

/**
 * Approves the ticket; when the server answers BUDGET_CONFIRMATION_REQUIRED (the forecast exceeds
 * the remaining budget), asks the person with the server's reason and approves again only on yes.
 */
export async function approveConfirmingBudget(
  ticketId: string,
  ask: (question: string) => boolean = (question) => window.confirm(question),
) {
  try {
    return await api.approveTicket(ticketId);
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 'BUDGET_CONFIRMATION_REQUIRED') throw error;
    if (!ask(`${error.message.replace(/;.*$/, '')}.\n\nApprove anyway?`)) throw error;
    return api.approveTicket(ticketId, { confirm_over_budget: true });
  }
}
