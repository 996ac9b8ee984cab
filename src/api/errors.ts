// The one place where errors become HTTP responses: `{error: {code, message, issues?}}`. Client
// mistakes get their 4xx; anything unexpected is a 500 with no detail (the detail goes to the log).
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { AppError, type ErrorCode } from '../base/errors.js';
import { redact } from '../base/redact.js';
import { pgCode } from '../core/rows.js';

export function errorBody(code: ErrorCode | string, message: string, issues?: unknown) {
  return { error: { code, message, ...(issues === undefined ? {} : { issues }) } };
}

/** Turns anything thrown into an AppError with the right status. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 413) return new AppError('PAYLOAD_TOO_LARGE', 'the request body is too large');
    if (error.message.startsWith('Malformed JSON'))
      return new AppError('INVALID_JSON', 'the request body is not valid JSON');
    return new AppError(error.status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', error.message || 'bad request', {
      status: error.status,
    });
  }
  const code = pgCode(error);
  if (code === '22P02' || code === '22007' || code === '22008' || code === '22003')
    return new AppError('BAD_REQUEST', 'a value has the wrong format');
  if (code === '23505') return new AppError('CONFLICT', 'this conflicts with an existing record');
  if (code === '23503') return new AppError('NOT_FOUND', 'a referenced record does not exist');
  if (code === '23514') return new AppError('VALIDATION_FAILED', 'a value is outside what is allowed');
  return new AppError('INTERNAL', 'internal error', { cause: error });
}

export function errorResponse(
  c: Context,
  error: unknown,
  log?: (m: string, f?: Record<string, unknown>) => void,
) {
  const appError = toAppError(error);
  if (appError.status >= 500 && log) {
    const cause = appError.cause ?? error;
    log('request failed', {
      method: c.req.method,
      path: c.req.path,
      error: redact(cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)),
    });
  }
  const message =
    appError.status >= 500 && appError.code === 'INTERNAL' ? 'internal error' : appError.message;
  return c.json(errorBody(appError.code, redact(message), appError.issues), appError.status as 400);
}

/** A zod failure as a 400 whose message names each field and what is wrong with it. */
export function validationError(error: ZodError, target: string): AppError {
  const issues = error.issues.map((i) => ({ path: i.path.map(String), code: i.code, message: i.message }));
  const where = target === 'json' ? 'body' : target;
  const message = issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : where}: ${i.message}`)
    .join('; ');
  return new AppError('VALIDATION_FAILED', `invalid request ${where}: ${message}`, { issues });
}
