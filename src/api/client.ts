// A small typed client of the HTTP API, for the CLI commands that talk to a running server
// (`omoi project add`, `omoi ticket create`, `omoi spec sync push`, …). No server code is imported.
import { z } from 'zod';
import { AppError, type ErrorCode } from '../base/errors.js';

/** The variables a CLI command that calls the API reads (one schema; see the README's table). */
export const apiClientEnvSchema = z.object({
  /** Where the Omoi API is. */
  OMOIOS_API_URL: z.string().url().default('http://127.0.0.1:7878'),
  /** An API key (or a worker's token); not needed for a server on 127.0.0.1. */
  OMOIOS_API_KEY: z.string().min(1).optional(),
  /** The default project of `omoi ticket create` and `omoi spec sync push`. */
  OMOIOS_PROJECT_ID: z.string().min(1).optional(),
});

export type ApiClientEnv = z.infer<typeof apiClientEnvSchema>;

/** Parses the client variables, or throws CONFIG_INVALID naming the bad one. */
export function parseApiClientEnv(env: Record<string, string | undefined>): ApiClientEnv {
  const parsed = apiClientEnvSchema.safeParse(env);
  if (!parsed.success)
    throw new AppError(
      'CONFIG_INVALID',
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  return parsed.data;
}

/** An API refusal: the server's code, message, status and issues. */
export class ApiRequestError extends AppError {
  constructor(
    code: string,
    message: string,
    readonly httpStatus: number,
    issues?: unknown,
  ) {
    super(code as ErrorCode, message, { status: httpStatus, ...(issues === undefined ? {} : { issues }) });
  }
}

export interface ApiClientOptions {
  baseUrl: string;
  key?: string | undefined;
  fetch?: typeof fetch;
}

/**
 * Creates the client.
 *
 * @example
 * const api = createApiClient({ baseUrl: 'http://127.0.0.1:7878' });
 * const project = await api.post<{ id: string }>('/projects', { name: 'demo', repo_url: '/srv/git/demo' });
 * const { ticket } = await api.post<{ ticket: { ref: string } }>('/tickets', { project_id: project.id, description: 'Add login', workflow_mode: 'quick' });
 */
export function createApiClient(options: ApiClientOptions) {
  const root = options.baseUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  const doFetch = options.fetch ?? fetch;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await doFetch(`${root}/api/v1${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
          // Every write says JSON, also without a body: the server refuses other writes (CSRF).
          ...(body === undefined && method === 'GET' ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new AppError(
        'UPSTREAM_FAILED',
        `cannot reach the Omoi API at ${root} (${reason}); is \`omoi start\` running? (set OMOIOS_API_URL)`,
      );
    }
    const text = await response.text();
    let payload: unknown = null;
    try {
      payload = text ? JSON.parse(text) : null;
    } catch {
      payload = null;
    }
    if (!response.ok) {
      const error = (payload as { error?: { code?: string; message?: string; issues?: unknown } } | null)
        ?.error;
      throw new ApiRequestError(
        error?.code ?? `HTTP_${response.status}`,
        error?.message ?? `the API answered ${response.status}`,
        response.status,
        error?.issues,
      );
    }
    return payload as T;
  }

  return {
    baseUrl: root,
    get: <T>(path: string) => call<T>('GET', path),
    post: <T>(path: string, body?: unknown) => call<T>('POST', path, body),
    delete: <T>(path: string) => call<T>('DELETE', path),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
