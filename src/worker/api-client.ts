// The worker's only way to the platform: HTTP with its scoped token. It never opens the database.
import type { z } from 'zod';
import { AppError } from '../base/errors.js';
import { SyncResult, TaskDetail, type Ticket } from '../contracts/api.js';
import type { EventData, WorkerEventType } from '../contracts/events.js';
import { type AskQuestion, Question } from '../contracts/questions.js';
import type { SpecFile } from '../spec-format/types.js';

/**
 * The part of GET /api/v1/tasks/:id (the contract's TaskDetail) the worker reads: a view of the
 * contract, not a second definition, so unit tests can hand the worker just these fields.
 */
export type WorkerTask = Pick<TaskDetail, 'id' | 'title' | 'description' | 'project_id' | 'ticket_id'> &
  Partial<
    Pick<
      TaskDetail,
      | 'execution_mode'
      | 'spec_task_id'
      | 'execution_config'
      | 'task_type'
      | 'delivery'
      | 'resume'
      | 'clarifications'
    >
  > & {
    ticket?: (Pick<Ticket, 'id' | 'ref' | 'title' | 'description'> & Partial<Ticket>) | null;
    project?: Partial<TaskDetail['project']> | null;
  };

/** The counts of a spec sync the worker reports (the contract's SyncResult has more). */
export type WorkerSyncResult = Pick<SyncResult, 'created' | 'updated' | 'unchanged'>;

export interface WorkerApiClient {
  getTask(taskId: string): Promise<WorkerTask>;
  postEvent<K extends WorkerEventType>(taskId: string, type: K, data: EventData<K>): Promise<void>;
  syncSpecs(projectId: string, files: SpecFile[]): Promise<WorkerSyncResult>;
  /** Parks the task on a question (the server ends this run's claim and token). */
  askQuestion(taskId: string, question: AskQuestion): Promise<Question>;
}

/**
 * A small typed client for the worker's calls. Network failures are retried a few times
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

  /** Calls the API and parses its answer with the contract's schema (a mismatch is an error, not a guess). */
  async function call<S extends z.ZodType>(
    schema: S | null,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<z.infer<S>> {
    const url = `${root}/api/v1${path}`;
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt += 1) {
      let response: Response;
      try {
        response = await doFetch(url, {
          method,
          headers: {
            authorization: `Bearer ${options.token}`,
            ...(body === undefined && method === 'GET' ? {} : { 'content-type': 'application/json' }),
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
      if (!schema) return json as z.infer<S>;
      const parsed = schema.safeParse(json);
      if (!parsed.success)
        throw new AppError(
          'UPSTREAM_FAILED',
          `${method} ${path}: the API answered with an unexpected shape (${parsed.error.issues
            .slice(0, 3)
            .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
            .join('; ')})`,
        );
      return parsed.data;
    }
    const reason = lastError instanceof Error ? lastError.message : String(lastError);
    throw new AppError('UPSTREAM_FAILED', `${method} ${path}: the API at ${root} is unreachable (${reason})`);
  }

  return {
    getTask(taskId) {
      return call(TaskDetail, 'GET', `/tasks/${encodeURIComponent(taskId)}`);
    },
    async postEvent(taskId, type, data) {
      await call(null, 'POST', `/tasks/${encodeURIComponent(taskId)}/events`, { type, data });
    },
    askQuestion(taskId, question) {
      return call(Question, 'POST', `/tasks/${encodeURIComponent(taskId)}/question`, question);
    },
    syncSpecs(projectId, files) {
      const documents = files.map((f) => ({
        path: f.path,
        content: typeof f.content === 'string' ? f.content : Buffer.from(f.content).toString('utf8'),
      }));
      return call(SyncResult, 'POST', `/projects/${encodeURIComponent(projectId)}/specs/sync`, {
        documents,
      });
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
