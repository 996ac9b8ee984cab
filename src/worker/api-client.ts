// The worker's only way to the platform: HTTP with its scoped token. It never opens the database.
import { AppError } from '../base/errors.js';
import type { SpecFile } from '../spec-format/types.js';

/** The task as GET /api/v1/tasks/:id returns it to a worker (fields the worker uses). */
export interface WorkerTask {
  id: string;
  title: string;
  description: string;
  project_id: string;
  ticket_id: string | null;
  execution_mode?: string;
  /** The spec task (TSK-…) an approved implementation task was created from. */
  spec_task_id?: string | null;
  execution_config?: { require_spec_skill?: boolean; selected_skill?: string } | null;
  ticket?: { id: string; ref?: string; title?: string; description?: string; workflow_mode?: string } | null;
  project?: { id: string; name?: string; repo_url?: string } | null;
}

export interface SyncResult {
  created: number;
  updated: number;
  unchanged: number;
  [key: string]: unknown;
}

export interface WorkerApiClient {
  getTask(taskId: string): Promise<WorkerTask>;
  postEvent(taskId: string, type: string, data: Record<string, unknown>): Promise<void>;
  syncSpecs(projectId: string, files: SpecFile[]): Promise<SyncResult>;
}

/**
 * A small typed client for the worker's three calls. Network failures are retried a few times
 * (a server restart must not kill a run that is nearly done); HTTP errors are not.
 *
 * @example
 * const api = createWorkerApiClient({ baseUrl: 'http://127.0.0.1:7878', token });
 * const task = await api.getTask(taskId);
 * await api.postEvent(taskId, 'agent.message', { text: 'hello' });
 */
export function createWorkerApiClient(options: {
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
  retries?: number;
}): WorkerApiClient {
  const root = options.baseUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  const doFetch = options.fetch ?? fetch;
  const retries = options.retries ?? 4;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${root}/api/v1${path}`;
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt += 1) {
      let response: Response;
      try {
        response = await doFetch(url, {
          method,
          headers: {
            authorization: `Bearer ${options.token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        lastError = error;
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
        continue;
      }
      const text = await response.text();
      const json = text ? safeJson(text) : null;
      if (!response.ok) {
        const detail = (json as { error?: { code?: string; message?: string } } | null)?.error;
        throw new AppError(
          'UPSTREAM_FAILED',
          `${method} ${path} → ${response.status}${detail ? ` ${detail.code}: ${detail.message}` : ''}`,
        );
      }
      return json as T;
    }
    const reason = lastError instanceof Error ? lastError.message : String(lastError);
    throw new AppError('UPSTREAM_FAILED', `${method} ${path}: the API at ${root} is unreachable (${reason})`);
  }

  return {
    async getTask(taskId) {
      const body = await call<Record<string, unknown>>('GET', `/tasks/${encodeURIComponent(taskId)}`);
      // Accept both `{task, ticket, project}` and a bare task carrying its ticket and project.
      const task = (body.task ?? body) as WorkerTask;
      return {
        ...task,
        ticket: task.ticket ?? (body.ticket as WorkerTask['ticket']) ?? null,
        project: task.project ?? (body.project as WorkerTask['project']) ?? null,
      };
    },
    async postEvent(taskId, type, data) {
      await call('POST', `/tasks/${encodeURIComponent(taskId)}/events`, { type, data });
    },
    async syncSpecs(projectId, files) {
      const documents = files.map((f) => ({
        path: f.path,
        content: typeof f.content === 'string' ? f.content : Buffer.from(f.content).toString('utf8'),
      }));
      const body = await call<Record<string, unknown>>(
        'POST',
        `/projects/${encodeURIComponent(projectId)}/specs/sync`,
        { documents },
      );
      const counts = (body.sync ?? body.result ?? body) as Partial<SyncResult>;
      return {
        ...body,
        created: Number(counts.created ?? 0),
        updated: Number(counts.updated ?? 0),
        unchanged: Number(counts.unchanged ?? 0),
      };
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text };
  }
}
