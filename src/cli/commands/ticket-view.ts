// What `omoi ticket show|approve|cancel|retry` share: finding the ticket by ref or id, the runtime
// it runs on, the spec tasks approving starts (in dependency order), the next command, and the text
// view of a ticket. Only type imports of the contracts at the top: commands stay light to load.
import type { TicketDetail } from '../../contracts/api.js';
import { specBranch } from '../../contracts/branches.js';
import { runtimeBadge } from '../../contracts/runtime-badge.js';
import { answerCommand, questionLines, taskLabel } from '../../mcp/questions.js';
import { usageError } from '../output.js';
import { taskDeliveryLine } from './delivery-view.js';

export type ApiTicketDetail = Omit<TicketDetail, 'events'> & {
  events: { type: string; data: Record<string, unknown> }[];
};

export async function connect() {
  const { createApiClient, parseApiClientEnv } = await import('../../api/client.js');
  const env = parseApiClientEnv(process.env);
  return { env, api: createApiClient({ baseUrl: env.OMOIOS_API_URL, key: env.OMOIOS_API_KEY }) };
}

type Api = Awaited<ReturnType<typeof connect>>['api'];

/** A project's id from its id or name. */
export function projectIdOf(projects: { id: string; name: string }[], idOrName: string): string | undefined {
  return (projects.find((p) => p.id === idOrName) ?? projects.find((p) => p.name === idOrName))?.id;
}

/** The web page of a ticket on the server the CLI talks to. */
export function ticketUrl(baseUrl: string, id: string): string {
  return `${baseUrl}/tickets/${id}`;
}

/**
 * The ticket a command names (ref or id; --project when refs repeat) and its runtime badge: the one
 * its latest run reported, else the server's. `detail` is null after a usage error (exit 2); API
 * refusals (404, 409 naming the projects) throw and exit 1.
 */
export async function readTicket(
  api: Api,
  key: string,
  project: string | undefined,
  usage: string,
): Promise<{ detail: ApiTicketDetail | null; runtime: string | null }> {
  const query = new URLSearchParams();
  if (project) {
    const { projects } = await api.get<{ projects: { id: string; name: string }[] }>('/projects');
    const id = projectIdOf(projects, project);
    if (!id) {
      usageError(`no project with id or name "${project}" (see omoi project list)`, usage);
      return { detail: null, runtime: null };
    }
    query.set('project_id', id);
  }
  const [detail, health] = await Promise.all([
    api.get<ApiTicketDetail>(`/tickets/${encodeURIComponent(key)}${query.size ? `?${query}` : ''}`),
    api.get<{ runtime?: string | null }>('/health').catch(() => ({ runtime: null })),
  ]);
  return { detail, runtime: runtimeOf(detail) ?? health.runtime ?? null };
}

/** The runtime the ticket's latest run reported (worker.started, else sandbox.spawned). */
export function runtimeOf(detail: Pick<ApiTicketDetail, 'events'>): string | null {
  // events come newest first from the API; take the newest that names a runtime
  const sorted = [...detail.events].sort(
    (a, b) => Number((b as { id?: number }).id ?? 0) - Number((a as { id?: number }).id ?? 0),
  );
  for (const e of sorted) {
    if (e.type !== 'worker.started' && e.type !== 'sandbox.spawned') continue;
    const runtime = e.data.runtime;
    if (typeof runtime === 'string')
      return runtimeBadge(runtime, typeof e.data.runtime_label === 'string' ? e.data.runtime_label : null);
  }
  return null;
}

/** The spec tasks approving creates runs for, dependencies first (then by id). */
export function approvalPlan(
  detail: Pick<ApiTicketDetail, 'spec_documents'>,
): { spec_id: string; title: string | null }[] {
  const tasks = detail.spec_documents.filter((d) => d.kind === 'task');
  const ids = new Set(tasks.map((t) => t.spec_id));
  const waiting = new Map(
    tasks.map((t) => {
      const deps = (t.frontmatter.dependencies as { depends_on?: unknown } | undefined)?.depends_on;
      return [
        t.spec_id,
        new Set(Array.isArray(deps) ? deps.filter((d) => ids.has(String(d))).map(String) : []),
      ];
    }),
  );
  const byId = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });
  const order: string[] = [];
  while (waiting.size > 0) {
    const free = [...waiting].filter(([, deps]) => deps.size === 0).map(([id]) => id);
    // a cycle (the server refuses to approve it): the rest by id
    const next = (free.length ? free : [...waiting.keys()]).sort(byId)[0]!;
    order.push(next);
    waiting.delete(next);
    for (const deps of waiting.values()) deps.delete(next);
  }
  const title = new Map(tasks.map((t) => [t.spec_id, t.title]));
  return order.map((spec_id) => ({ spec_id, title: title.get(spec_id) ?? null }));
}

/** What a person does next with this ticket: a sentence, and the command when there is one. */
export function nextStep(
  detail: Pick<ApiTicketDetail, 'ref' | 'status' | 'approved_at' | 'tasks' | 'workflow_mode'> & {
    pull_request?: ApiTicketDetail['pull_request'];
    questions?: ApiTicketDetail['questions'];
  },
): {
  text: string;
  command: string | null;
} {
  const ref = detail.ref;
  // an agent waits for a person: that comes before anything else the ticket waits for
  const open = (detail.questions ?? []).filter((q) => q.status === 'open');
  const parked = detail.tasks.filter((t) => t.status === 'awaiting_input');
  if (open.length > 0 || parked.length > 0) {
    const first = open[0] ?? { task_id: parked[0]!.id };
    const several = Math.max(open.length, parked.length) > 1;
    return {
      text: several
        ? `${Math.max(open.length, parked.length)} tasks ask a question: answer each (--task names it)`
        : 'an agent asks a question: answer it and its task resumes',
      command: answerCommand(ref, first, several),
    };
  }
  const stuck = [...detail.tasks].reverse().find((t) => t.status === 'failed' || t.status === 'cancelled');
  const active = detail.tasks.some((t) => ['pending', 'claimed', 'running'].includes(t.status));
  switch (detail.status) {
    case 'awaiting_approval':
      return {
        text: 'review the spec, then approve it to start its tasks',
        command: `omoi ticket approve ${ref}`,
      };
    case 'blocked':
      return stuck
        ? { text: `a task ${stuck.status}: retry it`, command: `omoi ticket retry ${ref}` }
        : { text: 'a dependency is blocked: see the tasks above', command: `omoi ticket show ${ref}` };
    case 'done':
      return detail.pull_request
        ? { text: `done: review and merge the pull request ${detail.pull_request.url}`, command: null }
        : { text: 'done: review the branches and merge what you keep', command: null };
    default:
      if (stuck && !active)
        return { text: `a task ${stuck.status}: retry it`, command: `omoi ticket retry ${ref}` };
      return {
        text: active
          ? 'running: check again in a moment (or open the URL to follow it live)'
          : 'waiting for the orchestrator to claim the task',
        command: `omoi ticket show ${ref}`,
      };
  }
}

/** The text view of `omoi ticket show`. */
export function renderTicket(detail: ApiTicketDetail, runtime: string | null, baseUrl: string): string {
  const lines = [`${detail.ref} ${detail.title}`];
  const row = (name: string, value: string) => lines.push(`  ${name.padEnd(8)} ${value}`);
  row('status', detail.status.replace(/_/g, ' '));
  row('mode', detail.workflow_mode);
  row('id', detail.id);
  row('runtime', runtime ?? 'unknown');
  if (detail.workflow_mode === 'spec_driven') row('branch', specBranch(detail.ref));
  if (detail.approved_at) row('approved', detail.approved_at);
  const docs = detail.spec_documents;
  if (detail.workflow_mode === 'spec_driven') {
    if (docs.length === 0) row('spec', 'not synced yet');
    else {
      const count = (kind: string) => docs.filter((d) => d.kind === kind).length;
      const plan = approvalPlan(detail);
      row(
        'spec',
        `${count('requirements')} requirements, ${count('design')} design, ${plan.length} tasks` +
          ` (${docs.length} documents)`,
      );
      for (const t of plan) lines.push(`             ${t.spec_id}${t.title ? ` ${t.title}` : ''}`);
    }
  }
  lines.push('  tasks');
  for (const t of detail.tasks) {
    lines.push(
      `    ${t.status.padEnd(10)} ${(t.spec_task_id ?? t.task_type).padEnd(12)} ${t.title}` +
        `${t.branch ? `  [${t.branch}]` : ''}${t.error ? `\n               ${t.error.split('\n')[0]}` : ''}`,
    );
    // what the run delivered: branch and commit, files changed (+/−), verification
    const delivered = taskDeliveryLine(t);
    if (delivered) lines.push(`               ${delivered}`);
  }
  if (detail.tasks.length === 0) lines.push('    (none)');
  const open = (detail.questions ?? []).filter((q) => q.status === 'open');
  if (open.length > 0) {
    lines.push(`  questions (${open.length} waiting for your answer)`);
    for (const q of open)
      lines.push(
        `    ${taskLabel(q, detail.tasks)}${q.kind === 'budget' ? ' (budget)' : ''}  ${answerCommand(detail.ref, q, open.length > 1)}`,
        ...questionLines(q, '      '),
      );
  }
  if (detail.pull_request)
    row(
      'pr',
      `${detail.pull_request.url} (${detail.pull_request.state}, ${detail.pull_request.head} → ${detail.pull_request.base})`,
    );
  row('url', ticketUrl(baseUrl, detail.id));
  const next = nextStep(detail);
  row('next', next.command ? `${next.command}  (${next.text})` : next.text);
  return `${lines.join('\n')}\n`;
}
