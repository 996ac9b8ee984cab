// Budgets over HTTP (src/core/budgets.ts): a ticket's live spend, and the approval's budget check.
import { createRoute } from '@hono/zod-openapi';
import { AppError } from '../../base/errors.js';
import { ApproveTicket, TicketSpend } from '../../contracts/api.js';
import { checkApprovalBudget, serverBudgets } from '../../core/budgets.js';
import { createForecastService } from '../../core/forecast.js';
import type { App, AppDeps } from '../context.js';
import { errors, jsonResponse, TICKET_REF_NOTE, ticketOfPath, ticketPathRequest } from './common.js';

export function registerBudgets(app: App, { services, config }: AppDeps): void {
  const budgets = serverBudgets(services.db, config);
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tickets/{id}/spend',
      tags: ['tickets'],
      summary: "What the ticket's tasks spent so far, its caps and what is left",
      description:
        'USD and tokens through the model broker (or, for runs that did not use it, as their workers reported). ' +
        '`remaining` is the least left under the ticket, project and daily caps (null: no cap in that unit). ' +
        TICKET_REF_NOTE,
      request: ticketPathRequest,
      responses: { 200: jsonResponse(TicketSpend, 'The spend'), 404: errors[404], 409: errors[409] },
    }),
    async (c) => {
      const ticket = await ticketOfPath(services, c);
      return c.json(await budgets.ticketSpend(ticket), 200);
    },
  );
}

/**
 * The approve route's check: 409 BUDGET_CONFIRMATION_REQUIRED when the forecast exceeds what the caps
 * leave, unless the body says `{confirm_over_budget: true}`.
 */
export function approvalBudgetGuard({ services, config }: Pick<AppDeps, 'services' | 'config'>) {
  const budgets = serverBudgets(services.db, config);
  const forecasts = createForecastService(services.db);
  return async (
    c: { req: { text: () => Promise<string> } },
    ticket: { id: string; ref: string; project_id: string; approved_at: string | null },
  ): Promise<void> => {
    const confirmed = (await approveBody(await c.req.text())).confirm_over_budget === true;
    await checkApprovalBudget(budgets, () => forecasts.forTicket(ticket), ticket, confirmed);
  };
}

/** The approve request's optional body: none (as clients send it) or an ApproveTicket. */
async function approveBody(text: string): Promise<ApproveTicket> {
  if (text.trim() === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new AppError('INVALID_JSON', 'the body is not valid JSON');
  }
  const parsed = ApproveTicket.safeParse(raw);
  if (!parsed.success)
    throw new AppError(
      'VALIDATION_FAILED',
      parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
      { issues: parsed.error.issues },
    );
  return parsed.data;
}
