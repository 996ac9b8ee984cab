// Pieces every route file uses: the error responses of the OpenAPI document and JSON bodies.
import type { z } from '@hono/zod-openapi';
import { ErrorBody } from '../../contracts/api.js';

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
