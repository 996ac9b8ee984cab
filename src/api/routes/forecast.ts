// GET /tickets/:id/forecast: what approving the ticket is expected to cost and take (src/core/forecast.ts).
import { createRoute } from '@hono/zod-openapi';
import { Forecast } from '../../contracts/api.js';
import { serverBudgets } from '../../core/budgets.js';
import { createForecastService } from '../../core/forecast.js';
import type { App, AppDeps } from '../context.js';
import { errors, jsonResponse, TICKET_REF_NOTE, ticketOfPath, ticketPathRequest } from './common.js';

export function registerForecast(app: App, { services, config }: AppDeps): void {
  const forecasts = createForecastService(services.db);
  const budgets = serverBudgets(services.db, config);
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/tickets/{id}/forecast',
      tags: ['tickets'],
      summary: "The expected cost and time of the ticket's task graph",
      description:
        "Per spec task: its estimate as a size, costed at the project's mean for that size over finished tasks " +
        '(basis history, with the number of samples) or at the documented default (basis default). Time is the ' +
        'critical path through the dependencies; `budget` compares the total with what the caps leave. ' +
        TICKET_REF_NOTE,
      request: ticketPathRequest,
      responses: { 200: jsonResponse(Forecast, 'The forecast'), 404: errors[404], 409: errors[409] },
    }),
    async (c) => {
      const ticket = await ticketOfPath(services, c);
      const forecast = await forecasts.forTicket(ticket);
      return c.json({ ...forecast, budget: await budgets.againstForecast(ticket, forecast) }, 200);
    },
  );
}
