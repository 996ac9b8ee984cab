// The ticket's pull request (issue 13): when its integration task completes, the server (never a
// sandbox: the token is the project's credential) opens one pull/merge request from the integration
// branch into the project's default branch, or updates the one already open for that head. The
// result is stored on the ticket with its event; a failure is stored and announced too, so the
// ticket cannot show done without it (src/core/flow.ts). The token reaches no event, row or error.
import { redact, registerSecret } from '../base/redact.js';
import {
  INTEGRATION_TASK_TYPE,
  type PullRequest,
  PullRequestSettings,
  verificationState,
} from '../contracts/delivery.js';
import type { Db } from '../db/client.js';
import { createForge, type Forge, forgeErrorMessage, type PullRequestText } from '../forge/index.js';

import type { CredentialsService } from './credentials.js';
import type { EventsService } from './events.js';
import { ticketTrace } from './trace.js';

/** The largest body sent (GitHub refuses more than 65,536 characters). */
const MAX_BODY_CHARS = 60_000;

interface PullRequestTicket {
  id: string;
  ref: string;
  title: string;
  project_id: string;
  default_branch: string;
  settings: Record<string, unknown> | null;
  pull_request: PullRequest | null;
  pull_request_for: string | null;
}

interface IntegrationRow {
  id: string;
  status: string;
  branch: string | null;
  finished_at: Date | string | null;
}

export type PullRequestOutcome =
  | { ok: true; pull_request: PullRequest; updated: boolean }
  | { ok: false; error: string }
  | { ok: true; skipped: string };

/** The project's pull request settings, or null when it wants none (or they are malformed). */
export function pullRequestSettings(settings: unknown): PullRequestSettings | null {
  const raw = (settings as { pull_request?: unknown } | null)?.pull_request;
  if (raw === undefined || raw === null) return null;
  const parsed = PullRequestSettings.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/** Which integration run a stored pull request reflects (a retried run updates it again). */
function runKey(task: IntegrationRow): string {
  const at = task.finished_at instanceof Date ? task.finished_at.toISOString() : String(task.finished_at);
  return `${task.id}@${at}`;
}

/** Title and body: the requirements with their trace status, the tasks with their evidence, the spec files. */
export async function pullRequestText(
  db: Db,
  ticket: Pick<PullRequestTicket, 'id' | 'ref' | 'title' | 'project_id'>,
): Promise<PullRequestText> {
  const trace = await ticketTrace(db, ticket);
  const tasks = await db.query<{
    spec_task_id: string | null;
    title: string;
    status: string;
    branch: string | null;
    task_type: string;
    result: unknown;
  }>(
    `SELECT spec_task_id, title, status, branch, task_type, result FROM tasks
      WHERE ticket_id = $1 AND execution_mode = 'implementation'
      ORDER BY task_type = $2, spec_task_id, created_at, id`,
    [ticket.id, INTEGRATION_TASK_TYPE],
  );
  const files = await db.query<{ path: string }>(
    `SELECT path FROM spec_documents WHERE ticket_id = $1 ORDER BY path`,
    [ticket.id],
  );
  const evidence = (result: unknown) => {
    const v = (result as { verification?: Parameters<typeof verificationState>[0] } | null)?.verification;
    const state = verificationState(v);
    if (state === 'unverified') return `unverified${v?.unverified ? ` (${v.unverified})` : ''}`;
    const counts = v?.tests ? `, ${v.tests.passed} passed, ${v.tests.failed} failed` : '';
    return `${state}: \`${v?.command}\` exit ${v?.exit_code}${counts}${v?.commit ? ` at ${v.commit.slice(0, 12)}` : ''}`;
  };
  const lines = [
    `Delivered by Omoi for ${ticket.ref}: ${ticket.title}.`,
    '',
    '## Requirements',
    '',
    ...(trace.requirements.length
      ? trace.requirements.map(
          (r) =>
            `- **${r.id}** ${r.title}: ${r.status.replace('_', ' ')}` +
            (r.tasks.length ? ` (${r.tasks.map((t) => t.spec_task_id ?? t.title).join(', ')})` : ''),
        )
      : ['(no requirements document)']),
    '',
    '## Tasks',
    '',
    ...tasks.map(
      (t) =>
        `- ${t.task_type === INTEGRATION_TASK_TYPE ? '**integration**' : `**${t.spec_task_id ?? t.title}**`} ` +
        `${t.status}${t.branch ? ` on \`${t.branch}\`` : ''}: ${evidence(t.result)}`,
    ),
    '',
    '## Spec files',
    '',
    ...(files.length ? files.map((f) => `- \`${f.path}\``) : ['(none)']),
  ];
  const body = lines.join('\n');
  return {
    title: `${ticket.ref}: ${ticket.title}`,
    body: body.length > MAX_BODY_CHARS ? `${body.slice(0, MAX_BODY_CHARS)}\n\n(cut)` : body,
  };
}

/**
 * The pull request service.
 *
 * @example
 * const prs = createPullRequestsService(db, { events, credentials });
 * await prs.openFor(ticketId); // after the ticket's integration task completed
 */
export function createPullRequestsService(
  db: Db,
  deps: {
    events: EventsService;
    credentials: CredentialsService;
    /** Picks the forge client; default the real clients (src/forge/). */
    forge?: (settings: PullRequestSettings, token: string) => Forge | Promise<Forge>;
  },
) {
  const forgeFor = deps.forge ?? createForge;
  // Tickets whose pull request this process is opening: a second settle waits for nothing, it skips.
  const opening = new Set<string>();

  async function load(ticketId: string) {
    const tickets = await db.query<PullRequestTicket>(
      `SELECT t.id::text AS id, t.ref, t.title, t.project_id::text AS project_id, p.default_branch, p.settings,
              t.pull_request, t.pull_request_for
         FROM tickets t JOIN projects p ON p.id = t.project_id WHERE t.id = $1`,
      [ticketId],
    );
    const integration = await db.query<IntegrationRow>(
      `SELECT id::text AS id, status, branch, finished_at FROM tasks
        WHERE ticket_id = $1 AND task_type = $2 ORDER BY created_at DESC, id LIMIT 1`,
      [ticketId, INTEGRATION_TASK_TYPE],
    );
    return { ticket: tickets[0], integration: integration[0] };
  }

  /** The token to authenticate with: the project's https token (an ssh key cannot call an API). */
  async function tokenOf(projectId: string): Promise<string> {
    const credential = await deps.credentials.reveal(projectId);
    if (credential?.kind !== 'https_token')
      throw new Error(
        credential
          ? 'the project credential is an ssh key; opening a pull request needs an https token (POST /api/v1/projects/:id/credentials)'
          : 'the project has no credential; opening a pull request needs an https token (omoi project add --token-env, or POST /api/v1/projects/:id/credentials)',
      );
    registerSecret(credential.secret);
    return credential.secret;
  }

  async function record(
    ticket: PullRequestTicket,
    key: string,
    outcome: PullRequestOutcome,
    provider: string,
  ) {
    await db.transaction(async (tx) => {
      if ('pull_request' in outcome) {
        await tx.query(
          `UPDATE tickets SET pull_request = $2::jsonb, pull_request_error = NULL, pull_request_for = $3,
                  updated_at = now() WHERE id = $1`,
          [ticket.id, JSON.stringify(outcome.pull_request), key],
        );
        const pr = outcome.pull_request;
        await deps.events.append(
          {
            type: 'pr.opened',
            projectId: ticket.project_id,
            ticketId: ticket.id,
            data: {
              provider: pr.provider,
              url: pr.url,
              number: pr.number,
              head: pr.head,
              base: pr.base,
              updated: outcome.updated,
            },
          },
          tx,
        );
      } else if ('error' in outcome) {
        await tx.query(
          `UPDATE tickets SET pull_request_error = $2, pull_request_for = $3, updated_at = now() WHERE id = $1`,
          [ticket.id, outcome.error, key],
        );
        await deps.events.append(
          {
            type: 'pr.failed',
            projectId: ticket.project_id,
            ticketId: ticket.id,
            data: { provider, error: outcome.error },
          },
          tx,
        );
      }
    });
  }

  return {
    /**
     * Opens (or updates) the ticket's pull request when its project asks for one and its integration
     * task has completed; does nothing when the stored one already reflects that run. Never throws:
     * a failure is stored on the ticket and announced as `pr.failed`.
     */
    async openFor(ticketId: string): Promise<PullRequestOutcome> {
      const { ticket, integration } = await load(ticketId);
      if (!ticket || !integration) return { ok: true, skipped: 'no integration task' };
      const settings = pullRequestSettings(ticket.settings);
      if (!settings) return { ok: true, skipped: 'the project asks for no pull request' };
      if (integration.status !== 'completed') return { ok: true, skipped: 'integration has not completed' };
      const key = runKey(integration);
      if (ticket.pull_request_for === key) return { ok: true, skipped: 'already done for this run' };
      if (opening.has(ticketId)) return { ok: true, skipped: 'being opened' };
      opening.add(ticketId);
      let token = '';
      let outcome: PullRequestOutcome;
      try {
        token = await tokenOf(ticket.project_id);
        const forge = await forgeFor(settings, token);
        const head = integration.branch ?? '';
        const base = ticket.default_branch;
        const text = await pullRequestText(db, ticket);
        const open = await forge.findOpen(head, base);
        outcome = open
          ? { ok: true, pull_request: await forge.update(open.number, text), updated: true }
          : { ok: true, pull_request: await forge.create(head, base, text), updated: false };
      } catch (error) {
        outcome = { ok: false, error: redact(forgeErrorMessage(error, token)).slice(0, 2000) };
      }
      try {
        await record(ticket, key, outcome, settings.provider);
      } finally {
        opening.delete(ticketId);
      }
      return outcome;
    },
  };
}

export type PullRequestsService = ReturnType<typeof createPullRequestsService>;
