import type {
  AnswerResult,
  ApprovalResult,
  CreatedTicket,
  DocumentList,
  Project,
  ProjectList,
  Question,
  QuestionStatus,
  SessionInfo,
  Task,
  TaskDetail,
  TaskDiff,
  TicketDetail,
  TicketList,
  TicketTrace,
  WorkflowMode,
} from './types';

export type { TicketDetail } from './types';

/**
 * A refused or failed API call, carrying the server's `{error: {code, message, issues?}}`.
 * Network failures get the code `NETWORK` so the UI can say the server is unreachable.
 *
 * @example
 * try { await api.createProject({ name: '', repo_url: '' }); }
 * catch (e) { if (e instanceof ApiError) show(e.message); }
 */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly issues?: unknown;

  constructor(code: string, message: string, status: number, issues?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    if (issues !== undefined) this.issues = issues;
  }
}

export const API_BASE = '/api/v1';

type AuthListener = (needsLogin: boolean) => void;
const authListeners = new Set<AuthListener>();
let loginNeeded = false;

/**
 * Whether the server asked for a key (it answered 401): the app then shows its login until a key
 * is accepted. `subscribe` returns the unsubscribe.
 *
 * @example
 * const stop = auth.subscribe((needed) => setShowLogin(needed));
 */
export const auth = {
  get needsLogin(): boolean {
    return loginNeeded;
  },
  set(needed: boolean): void {
    if (needed === loginNeeded) return;
    loginNeeded = needed;
    for (const listener of authListeners) listener(needed);
  },
  subscribe(listener: AuthListener): () => void {
    authListeners.add(listener);
    return () => authListeners.delete(listener);
  },
};

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(API_BASE + path, {
      method,
      // Every write says JSON, also without a body: the server refuses other writes (CSRF).
      headers:
        method === 'GET'
          ? { accept: 'application/json' }
          : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      // The login's session cookie (HttpOnly) goes with every call, never to another site.
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError('NETWORK', 'Cannot reach the Omoi server. Is `omoi start` running?', 0);
  }
  const text = await response.text();
  let payload: unknown = null;
  if (text !== '') {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = null;
    }
  }
  if (response.status === 401 && path !== '/session') auth.set(true);
  if (!response.ok) {
    const error = (payload as { error?: { code?: string; message?: string; issues?: unknown } } | null)
      ?.error;
    throw new ApiError(
      error?.code ?? `HTTP_${response.status}`,
      error?.message ?? `The server answered ${response.status} ${response.statusText}`.trim(),
      response.status,
      error?.issues,
    );
  }
  return payload as T;
}

/**
 * A read of a route that a server may not have yet (an older build): its 404 is `null`, so the page
 * leaves that part out instead of showing an error. A 404 that names the resource (NOT_FOUND on a
 * route that exists) reads the same: there is nothing to show.
 */
async function optional<T>(path: string): Promise<T | null> {
  try {
    return await request<T>('GET', path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

let routeList: Promise<Set<string>> | null = null;

/**
 * The `METHOD /path` pairs the server documents in its OpenAPI listing (`GET /api/v1/tickets/{id}/trace`),
 * read once per page load. A route another build of the server lacks is then never called, so the
 * page leaves that part out without a 404 in the console; an unreadable listing lists nothing.
 */
function documentedRoutes(): Promise<Set<string>> {
  routeList ??= request<{ paths?: Record<string, Record<string, unknown>> }>('GET', '/openapi.json')
    .then(
      (doc) =>
        new Set(
          Object.entries(doc.paths ?? {}).flatMap(([path, methods]) =>
            Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
          ),
        ),
    )
    .catch(() => new Set<string>());
  return routeList;
}

/** Forgets the route listing (tests, and a server upgraded under an open page on its next load). */
export function forgetRoutes(): void {
  routeList = null;
}

/** A read of a route the server may not have yet: null when it is not documented or answers 404. */
async function ifDocumented<T>(route: string, path: string): Promise<T | null> {
  if (!(await documentedRoutes()).has(`GET ${API_BASE}${route}`)) return null;
  return optional<T>(path);
}

/** The calls the Command Center makes; each answer has the contract's shape (src/contracts/api.ts). */
export const api = {
  /** Logs in with a key: the server sets an HttpOnly session cookie (the key is not kept here). */
  login: async (key: string) => {
    const session = await request<SessionInfo>('POST', '/session', { key });
    auth.set(false);
    return session;
  },
  logout: async () => {
    await request<unknown>('DELETE', '/session');
    auth.set(true);
  },
  session: () => request<SessionInfo>('GET', '/session'),
  /** The server's state; `runtime` is the badge of the runtime its workers will use. */
  health: () =>
    request<{ status: string; version: string; database: string; runtime: string | null }>('GET', '/health'),
  listProjects: async () => (await request<ProjectList>('GET', '/projects')).projects,
  createProject: (input: { name: string; repo_url: string; default_branch?: string }) =>
    request<Project>('POST', '/projects', input),
  listTickets: async (filter: { project_id?: string } = {}) => {
    const query = filter.project_id ? `?project_id=${encodeURIComponent(filter.project_id)}` : '';
    return (await request<TicketList>('GET', `/tickets${query}`)).tickets;
  },
  getTicket: (id: string) => request<TicketDetail>('GET', `/tickets/${encodeURIComponent(id)}`),
  createTicket: (input: {
    project_id: string;
    title: string;
    description: string;
    workflow_mode: WorkflowMode;
  }) => request<CreatedTicket>('POST', '/tickets', input),
  ticketSpecs: async (id: string) =>
    (await request<DocumentList>('GET', `/tickets/${encodeURIComponent(id)}/specs`)).documents,
  cancelTask: (id: string) => request<Task>('POST', `/tasks/${encodeURIComponent(id)}/cancel`),
  retryTask: (id: string) => request<Task>('POST', `/tasks/${encodeURIComponent(id)}/retry`),
  /** One task with its ticket, project and delivery brief. */
  getTask: (id: string) => request<TaskDetail>('GET', `/tasks/${encodeURIComponent(id)}`),
  /**
   * Per requirement item, the tasks that cover it and their evidence; null while the server has no
   * trace route (it is not in the server's OpenAPI listing, or answers 404).
   *
   * @example
   * const trace = await api.ticketTrace('TKT-001'); // trace?.requirements[0].status === 'verified'
   */
  ticketTrace: (id: string) =>
    ifDocumented<TicketTrace>('/tickets/{id}/trace', `/tickets/${encodeURIComponent(id)}/trace`),
  /** What a task's branch changed (a unified patch, file by file); null when there is none to show. */
  taskDiff: (id: string) =>
    ifDocumented<TaskDiff>('/tasks/{id}/diff', `/tasks/${encodeURIComponent(id)}/diff`),
  /**
   * The question inbox: every project's questions with that status (open ones: what waits for a
   * person); null while the server has no inbox route.
   *
   * @example
   * const open = await api.listQuestions({ status: 'open' }); // open?.length === 2
   */
  listQuestions: async (filter: { status?: QuestionStatus; project_id?: string } = {}) => {
    const query = new URLSearchParams();
    if (filter.status) query.set('status', filter.status);
    if (filter.project_id) query.set('project_id', filter.project_id);
    const list = await ifDocumented<{ questions: Question[] }>(
      '/questions',
      `/questions${query.size ? `?${query}` : ''}`,
    );
    return list?.questions ?? null;
  },
  /** Answers a task's open question: the task is pending again and resumes with the answer. */
  answerTask: (taskId: string, answer: string) =>
    request<AnswerResult>('POST', `/tasks/${encodeURIComponent(taskId)}/answer`, { answer }),
  /** `confirm_over_budget`: approve although the forecast exceeds the remaining budget. */
  approveTicket: (id: string, body?: { confirm_over_budget: boolean }) =>
    request<ApprovalResult>('POST', `/tickets/${encodeURIComponent(id)}/approve`, body),
};

/** The SSE stream URL for one ticket's, one project's, or every event. */
export function eventsUrl(filter: { ticket_id?: string; project_id?: string }): string {
  const params = new URLSearchParams();
  if (filter.ticket_id) params.set('ticket_id', filter.ticket_id);
  if (filter.project_id) params.set('project_id', filter.project_id);
  const query = params.toString();
  return `${API_BASE}/events${query ? `?${query}` : ''}`;
}
