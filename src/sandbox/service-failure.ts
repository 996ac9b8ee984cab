import { AppError } from '../base/errors.js';

/** What went wrong at a sandbox service, in the few kinds a person acts on differently. */
export type ServiceFailureKind = 'auth' | 'quota' | 'timeout' | 'unreachable' | 'not_found' | 'service';

const ADVICE: Record<ServiceFailureKind, string> = {
  auth: 'the credentials were refused; check the API key setting',
  quota: 'the account hit a quota or rate limit; wait, raise the limit, or lower the concurrency',
  timeout: 'the service did not answer in time; it may be overloaded, try again',
  unreachable: 'the service could not be reached; check its URL and the network',
  not_found: 'the service does not know the requested image, template or sandbox',
  service: 'the service reported an error',
};

/**
 * Sorts a service error into a kind from its HTTP status, its error code or its words. SDKs wrap
 * errors differently (axios, fetch, connect-rpc, docker-modem), so this only reads the common
 * fields rather than depending on any one SDK's classes.
 */
export function classifyServiceFailure(error: unknown): ServiceFailureKind {
  const record = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const status = Number(record.statusCode ?? record.status ?? Number.NaN);
  const code = String(record.code ?? '');
  const text = `${error instanceof Error ? error.message : String(error)} ${error instanceof Error ? error.name : ''}`;
  // Quota refusals often come as 403 Forbidden, so the words are read before the status.
  if (
    status === 429 ||
    status === 402 ||
    /quota|rate limit|too many|limit exceeded|insufficient|maximum number/i.test(text)
  )
    return 'quota';
  if (status === 401 || status === 403 || /unauthori[sz]ed|forbidden|authenticat|invalid api key/i.test(text))
    return 'auth';
  if (
    status === 408 ||
    status === 504 ||
    /ETIMEDOUT|UND_ERR_.*TIMEOUT|ECONNABORTED/.test(code) ||
    /timed? ?out|timeout/i.test(text)
  )
    return 'timeout';
  if (/ECONNREFUSED|ENOTFOUND|ENOENT|EAI_AGAIN|ECONNRESET|EHOSTUNREACH/.test(`${code} ${text}`))
    return 'unreachable';
  if (status === 404 || /not found|no such/i.test(text)) return 'not_found';
  return 'service';
}

/**
 * Wraps a service error into the AppError a task fails with: which service, what we were doing,
 * what kind of failure, and the service's own words (never a stack trace).
 *
 * @example
 * throw serviceFailure('Daytona', 'creating the sandbox', error);
 * // SANDBOX_FAILED "Daytona: creating the sandbox failed (auth: the credentials were refused; …): 401 Invalid API key"
 */
export function serviceFailure(service: string, doing: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  const kind = classifyServiceFailure(error);
  const detail = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
  return new AppError('SANDBOX_FAILED', `${service}: ${doing} failed (${kind}: ${ADVICE[kind]}): ${detail}`, {
    cause: error,
  });
}
