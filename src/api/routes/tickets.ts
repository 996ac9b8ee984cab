import { createRoute } from '@hono/zod-openapi';
import { AppError } from '../../base/errors.js';
import {
  ApprovalResult,
  CreatedTicket,
  CreateTicket,
  DocumentList,
  TicketDetail,
  TicketList,
  TicketQuery,
} from '../../contracts/api.js';
import { serverBudgets } from '../../core/budgets.js';
import type { App, AppDeps } from '../context.js';
import { approvalBudgetGuard } from './budgets.js';
import {
  errors,
  jsonBody,
  jsonResponse,
  TICKET_REF_NOTE,
  ticketOfPath,
  ticketPathRequest,
} from './common.js';

export function registerTickets(app: App, { services, config }: AppDeps): void {
  const checkBudget = approvalBudgetGuard({ services, config });
  const budgets = serverBudgets(services.db, config);

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/tickets',
      tags: ['tickets'],
      summary: 'Create a ticket and its first task',
      description:
        'spec_driven: the task has execution_config {require_spec_skill: true, selected_skill: "spec-driven-dev"}, ' +
        'task_type create_spec, execution mode exploration. quick: {require_spec_skill: false}, an implementation ' +
        'task. The title is derived from the description when absent; the TKT ref is assigned by the server. ' +
        '422 RUNTIME_UNAVAILABLE when the agent runtime the server was told to use (AGENT_RUNTIME) lacks its key; ' +
        'the message says what to set.',
      request: { body: jsonBody(CreateTicket) },
      responses: {
        201: jsonResponse(CreatedTicket, 'The ticket and its first task'),
        400: errors[400],
        404: errors[404],
        422: errors[422],
      },
    }),
    async (c) => {
      // Refused now, with what to set, rather than failing inside a sandbox minutes later.
      if (config.runtimeUnavailable) throw new AppError('RUNTIME_UNAVAILABLE', config.runtimeUnavailable);
      return c.json(await services.tickets.create(c.req.valid('json')), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tickets',
      tags: ['tickets'],
      summary: 'List tickets, newest first, each with its spend',
      request: { query: TicketQuery },
      responses: { 200: jsonResponse(TicketList, 'Tickets'), 400: errors[400] },
    }),
    async (c) => {
      const { limit, ...filter } = c.req.valid('query');
      const tickets = await services.tickets.list(filter, limit);
      const spend = await budgets.ticketSpends(tickets);
      return c.json({ tickets: tickets.map((t) => ({ ...t, spend: spend.get(t.id)! })) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tickets/{id}',
      tags: ['tickets'],
      summary: 'A ticket with its tasks, spec documents and latest events',
      description: TICKET_REF_NOTE,
      request: ticketPathRequest,
      responses: {
        200: jsonResponse(TicketDetail, 'The ticket'),
        404: errors[404],
        409: errors[409],
      },
    }),
    async (c) => c.json(await services.tickets.detail((await ticketOfPath(services, c)).id), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tickets/{id}/specs',
      tags: ['specs'],
      summary: "The spec documents a ticket's run synced",
      description: TICKET_REF_NOTE,
      request: ticketPathRequest,
      responses: {
        200: jsonResponse(DocumentList, 'Documents'),
        404: errors[404],
        409: errors[409],
      },
    }),
    async (c) => {
      const { id } = await ticketOfPath(services, c);
      return c.json({ documents: await services.specs.listForTicket(id) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/tickets/{id}/approve',
      tags: ['tickets'],
      summary: "Turn the ticket's spec tasks into executable tasks (dependencies resolved)",
      description:
        'Idempotent: approving an approved ticket creates nothing. 409 with the reason for a quick ticket, a spec ' +
        'run still going, an unsynced or invalid spec, unresolvable dependencies, or an approval already running. ' +
        'Optional body {confirm_over_budget: true}: without it, a forecast over the remaining budget is a 409 ' +
        'BUDGET_CONFIRMATION_REQUIRED. ' +
        TICKET_REF_NOTE,
      // The body is optional (clients send none): read by the budget check, not by the validator.
      request: ticketPathRequest,
      responses: {
        200: jsonResponse(
          ApprovalResult,
          'The approved ticket and its tasks (created is 0 when it was already approved)',
        ),
        404: errors[404],
        409: errors[409],
      },
    }),
    async (c) => {
      const ticket = await ticketOfPath(services, c);
      await checkBudget(c, ticket);
      return c.json(await services.tickets.approve(ticket.id), 200);
    },
  );
}
