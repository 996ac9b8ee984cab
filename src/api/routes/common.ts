// Pieces every route file uses: the error responses of the OpenAPI document, JSON bodies, and the
// `/tickets/{id}…` path that takes a ticket's id or its ref.
import type { z } from '@hono/zod-openapi';
import { ErrorBody, IdParam, TicketRefQuery } from '../../contracts/api.js';
import type { Services } from '../../core/services.js';

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorBody } },
});

/** The error responses a route may give, for the OpenAPI document. */
export const errors = {
  400: error('Invalid request: malformed JSON, wrong types, unknown fields'),
  401: error('No key, or an unknown key, where one is required'),
  403: error('The key may not do this (worker tokens reach only their own task)'),
  404: error('Unknown id'),
  409: error('The resource is not in a state that allows this'),
  413: error('The body is larger than allowed'),
  415: error('The body is not application/json'),
  422: error(
    'Well-formed but not acceptable now (e.g. RUNTIME_UNAVAILABLE: the agent runtime lacks its key)',
  ),
};

export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return {
    required: true,
    ...(description ? { description } : {}),
    content: { 'application/json': { schema } },
  };
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** What every `/tickets/{id}…` route says of its path, at the end of its description. */
export const TICKET_REF_NOTE =
  'The path takes the ticket id or its ref (TKT-001); a ref that repeats across projects needs ?project_id= ' +
  '(409 names the projects otherwise).';

/** The request of a route whose path names a ticket: `{id}` (an id or a ref) and `?project_id=`. */
export const ticketPathRequest = { params: IdParam, query: TicketRefQuery };

/** The ticket a route's `{id}` names: an id, or a ref with the optional `project_id` query. */
export function ticketOfPath(
  services: Pick<Services, 'tickets'>,
  c: { req: { param: (name: 'id') => string; query: (name: 'project_id') => string | undefined } },
) {
  return services.tickets.resolve(c.req.param('id'), { projectId: c.req.query('project_id') });
}
