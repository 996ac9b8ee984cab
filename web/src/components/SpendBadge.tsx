// A ticket's spend so far against what its caps leave (GET /api/v1/tickets/:id/spend), refreshed
// while the page is open: on the ticket page's header and the board's cards. And the approval's
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

/** `$0.42 · 120k tokens` (with what is left when a cap applies); nothing until something is spent. */
export function SpendBadge({ ticketId, refreshMs = 5_000 }: { ticketId: string; refreshMs?: number }) {
  const { data } = useQuery({
    queryKey: ['ticket', ticketId, 'spend'],
    queryFn: () => fetchSpend(ticketId),
    refetchInterval: refreshMs,
  });
  if (
    !data ||
    (data.usd === 0 && data.tokens === 0 && data.remaining.usd === null && data.remaining.tokens === null)
  )
    return null;
  const left = [
    data.remaining.usd === null ? null : `${usd(data.remaining.usd)} left`,
    data.remaining.tokens === null ? null : `${tokens(data.remaining.tokens)} tokens left`,
  ].filter(Boolean);
  const over = data.remaining.usd === 0 || data.remaining.tokens === 0;
  return (
    <span
      className={`badge spend${over ? ' failed' : ''}`}
      title={left.length ? `Budget: ${left.join(', ')}` : 'No budget cap'}
      data-testid="spend"
    >
      {usd(data.usd)} · {tokens(data.tokens)} tokens
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
