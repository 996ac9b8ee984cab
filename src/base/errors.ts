/**
 * The one error type for broken invariants and refused requests. Expected outcomes (a validation
 * report, a run result) are values, not throws. Each edge maps AppError in one place: `app.onError`
 * for HTTP, `process.exitCode` for the CLI, an `error` frame for SSE.
 *
 * @example
 * throw new AppError('NOT_FOUND', `No project ${id}`, { status: 404 });
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_JSON'
  | 'VALIDATION_FAILED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BRANCH_NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'SPEC_INVALID'
  | 'DEPENDENCY_CYCLE'
  | 'DATA_DIR_LOCKED'
  | 'CONFIG_INVALID'
  | 'RUNTIME_UNAVAILABLE'
  | 'SANDBOX_FAILED'
  | 'GIT_FAILED'
  | 'AGENT_FAILED'
  | 'UPSTREAM_FAILED'
  | 'BUDGET_REACHED'
  | 'BUDGET_CONFIRMATION_REQUIRED'
  | 'NOT_AWAITING_INPUT'
  | 'TASK_NOT_RUNNING'
  | 'INTERNAL';

const DEFAULT_STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BRANCH_NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  SPEC_INVALID: 422,
  DEPENDENCY_CYCLE: 422,
  RUNTIME_UNAVAILABLE: 422,
  UPSTREAM_FAILED: 502,
  BUDGET_REACHED: 402,
  BUDGET_CONFIRMATION_REQUIRED: 409,
  NOT_AWAITING_INPUT: 409,
  TASK_NOT_RUNNING: 409,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra detail for clients, such as a validation report's issues. */
  readonly issues?: unknown;

  constructor(
    code: ErrorCode,
    message: string,
    options: { status?: number; cause?: unknown; issues?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? DEFAULT_STATUS[code] ?? 500;
    if (options.issues !== undefined) this.issues = options.issues;
  }
}

/** Wraps anything thrown into an AppError, keeping AppErrors as they are. */
export function coerceError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AppError('INTERNAL', message, { cause: error });
}
