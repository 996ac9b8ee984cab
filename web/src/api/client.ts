import type { OmoiEvent, Project, SpecDocument, Task, Ticket, WorkflowMode } from './types';

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

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(API_BASE + path, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
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

/** Lists come back either bare or wrapped as `{<key>: [...]}`; accept both. */
function list<T>(payload: unknown, ...keys: string[]): T[] {
  if (Array.isArray(payload)) return payload as T[];
  for (const key of [...keys, 'items', 'data']) {
    const inner = (payload as Record<string, unknown> | null)?.[key];
    if (Array.isArray(inner)) return inner as T[];
  }
  return [];
}

/** Single resources come back either bare or wrapped as `{<key>: {...}}`. */
function one<T>(payload: unknown, key: string): T {
  const inner = (payload as Record<string, unknown> | null)?.[key];
  return (inner && typeof inner === 'object' ? inner : payload) as T;
}

export interface TicketDetail extends Ticket {
  tasks: Task[];
  events: OmoiEvent[];
}

/** The calls the Command Center makes. */
export const api = {
  listProjects: async () => list<Project>(await request('GET', '/projects'), 'projects'),
  createProject: async (input: { name: string; repo_url: string; default_branch?: string }) =>
    one<Project>(await request('POST', '/projects', input), 'project'),
  listTickets: async (filter: { project_id?: string } = {}) => {
    const query = filter.project_id ? `?project_id=${encodeURIComponent(filter.project_id)}` : '';
    return list<Ticket>(await request('GET', `/tickets${query}`), 'tickets');
  },
  getTicket: async (id: string): Promise<TicketDetail> => {
    const payload = (await request('GET', `/tickets/${encodeURIComponent(id)}`)) as Record<string, unknown>;
    const ticket = one<Ticket>(payload, 'ticket');
    const pick = <T>(key: string): T[] => {
      const value = (ticket as unknown as Record<string, unknown>)[key] ?? payload[key];
      return Array.isArray(value) ? (value as T[]) : [];
    };
    return {
      ...ticket,
      tasks: pick<Task>('tasks'),
      events: pick<OmoiEvent>('events'),
      spec_documents: [...pick<SpecDocument>('spec_documents'), ...pick<SpecDocument>('specs')],
    };
  },
  createTicket: async (input: {
    project_id: string;
    title: string;
    description: string;
    workflow_mode: WorkflowMode;
  }) => {
    const payload = await request<{ ticket?: Ticket; task?: Task }>('POST', '/tickets', input);
    return { ticket: one<Ticket>(payload, 'ticket'), task: payload?.task };
  },
  ticketSpecs: async (id: string) =>
    list<SpecDocument>(
      await request('GET', `/tickets/${encodeURIComponent(id)}/specs`),
      'documents',
      'specs',
      'spec_documents',
    ),
  cancelTask: (id: string) => request<unknown>('POST', `/tasks/${encodeURIComponent(id)}/cancel`),
  retryTask: (id: string) => request<unknown>('POST', `/tasks/${encodeURIComponent(id)}/retry`),
  approveTicket: (id: string) => request<unknown>('POST', `/tickets/${encodeURIComponent(id)}/approve`),
};

/** The SSE stream URL for one ticket's, one project's, or every event. */
export function eventsUrl(filter: { ticket_id?: string; project_id?: string }): string {
  const params = new URLSearchParams();
  if (filter.ticket_id) params.set('ticket_id', filter.ticket_id);
  if (filter.project_id) params.set('project_id', filter.project_id);
  const query = params.toString();
  return `${API_BASE}/events${query ? `?${query}` : ''}`;
}
