// A project's webhooks: kept in projects.settings.webhooks without their secrets (so every route that
// shows a project shows them safely), each secret sealed in webhook_secrets together with the full
// URL: many webhook URLs are secrets themselves (Slack's and Discord's carry a token in the last
// path segment), so the settings show the URL with its last segment and query masked.
// Written through `prepareWebhooks` (checks each target, assigns ids, splits the secrets off) then
// `storeSecrets`.
import { randomUUID } from 'node:crypto';
import { AppError } from '../base/errors.js';
import type { WebhookSetting } from '../contracts/api.js';
import { type Db, json, type Queryable } from '../db/client.js';
import { checkedAddresses, parseWebhookUrl, type Resolver } from './targets.js';

/** What a project's settings hold of one webhook (never the secret, the URL masked). */
export interface StoredWebhook {
  id: string;
  url: string;
  events?: WebhookSetting['events'];
  format: 'json' | 'slack';
  has_secret: true;
}

/** What is sealed per webhook. */
export interface WebhookSecret {
  secret: string;
  url: string;
}

/** What sealText/openText of the credentials service offer. */
export interface Sealer {
  sealText(scope: string, text: string): string;
  openText(scope: string, sealed: string): string;
}

/** The scope a secret is sealed under: it opens only for this project and webhook. */
export const secretScope = (projectId: string, webhookId: string) => `webhook:${projectId}:${webhookId}`;

/**
 * A webhook URL as people and read-only keys see it: the last path segment and the query masked.
 *
 * @example
 * maskUrl('https://hooks.slack.com/services/T0/B0/XyZ'); // 'https://hooks.slack.com/services/T0/B0/…'
 */
export function maskUrl(raw: string): string {
  const url = parseWebhookUrl(raw);
  const segments = url.pathname.split('/');
  if (segments.length > 1 && segments[segments.length - 1]) segments[segments.length - 1] = '…';
  return `${url.origin}${segments.join('/')}${url.search ? '?…' : ''}`;
}

export interface PreparedWebhooks {
  webhooks: StoredWebhook[];
  /** What to seal, by webhook id: every listed webhook. */
  sealed: Map<string, WebhookSecret>;
}

/**
 * Checks a list as written (targets resolved and refused when private, a secret for each new one)
 * and splits it into what the settings hold and what is sealed. A webhook listed with its id keeps
 * its secret when none is sent, and its URL when the masked one is sent back.
 *
 * @example
 * const prepared = await prepareWebhooks([{ url: 'https://hooks.example.com/x', secret: '…16+…' }], new Map(), { allowPrivate: false });
 */
export async function prepareWebhooks(
  input: WebhookSetting[],
  existing: Map<string, WebhookSecret>,
  options: { allowPrivate: boolean; resolve?: Resolver },
): Promise<PreparedWebhooks> {
  const webhooks: StoredWebhook[] = [];
  const sealed = new Map<string, WebhookSecret>();
  for (const [index, item] of input.entries()) {
    const id = item.id ?? randomUUID();
    if (sealed.has(id)) throw new AppError('BAD_REQUEST', `webhooks[${index}]: id ${id} appears twice`);
    const before = existing.get(id);
    const url = before && item.url === maskUrl(before.url) ? before.url : item.url;
    await checkedAddresses(url, options);
    const secret = item.secret ?? before?.secret;
    if (!secret)
      throw new AppError(
        'BAD_REQUEST',
        `webhooks[${index}]: a new webhook needs a secret (16+ characters) to sign its deliveries`,
      );
    sealed.set(id, { secret, url });
    webhooks.push({
      id,
      url: maskUrl(url),
      ...(item.events ? { events: [...new Set(item.events)] } : {}),
      format: item.format ?? 'json',
      has_secret: true,
    });
  }
  return { webhooks, sealed };
}

/** Seals every listed webhook's secret and URL, and drops those of webhooks no longer listed. */
export async function storeSecrets(
  q: Queryable,
  sealer: Sealer,
  projectId: string,
  prepared: PreparedWebhooks,
): Promise<void> {
  await q.query('DELETE FROM webhook_secrets WHERE project_id = $1 AND NOT (webhook_id = ANY($2::text[]))', [
    projectId,
    [...prepared.sealed.keys()],
  ]);
  for (const [id, value] of prepared.sealed)
    await q.query(
      `INSERT INTO webhook_secrets (project_id, webhook_id, sealed) VALUES ($1, $2, $3)
       ON CONFLICT (project_id, webhook_id) DO UPDATE SET sealed = EXCLUDED.sealed, created_at = now()`,
      [projectId, id, sealer.sealText(secretScope(projectId, id), JSON.stringify(value))],
    );
}

/** The webhooks a project's settings hold. */
export function webhooksOf(settings: unknown): StoredWebhook[] {
  const list = (settings as { webhooks?: unknown } | null)?.webhooks;
  return Array.isArray(list) ? (list as StoredWebhook[]) : [];
}

/** Every opened secret of a project, by webhook id (server use only). */
async function revealAll(
  q: Queryable,
  sealer: Sealer,
  projectId: string,
): Promise<Map<string, WebhookSecret>> {
  const rows = await q.query<{ webhook_id: string; sealed: string }>(
    'SELECT webhook_id, sealed FROM webhook_secrets WHERE project_id = $1',
    [projectId],
  );
  return new Map(
    rows.map((r) => [
      r.webhook_id,
      JSON.parse(sealer.openText(secretScope(projectId, r.webhook_id), r.sealed)) as WebhookSecret,
    ]),
  );
}

/** Replaces a project's webhooks (settings and secrets in one transaction). */
export async function replaceWebhooks(
  db: Db,
  sealer: Sealer,
  projectId: string,
  input: WebhookSetting[],
  options: { allowPrivate: boolean; resolve?: Resolver },
): Promise<StoredWebhook[]> {
  const rows = await db.query<{ id: string }>('SELECT id FROM projects WHERE id = $1', [projectId]);
  if (!rows[0]) throw new AppError('NOT_FOUND', `no project with id ${projectId}`);
  const prepared = await prepareWebhooks(input, await revealAll(db, sealer, projectId), options);
  await db.transaction(async (tx) => {
    await tx.query(
      `UPDATE projects SET settings = jsonb_set(settings, '{webhooks}', $2::jsonb), updated_at = now() WHERE id = $1`,
      [projectId, json(prepared.webhooks)],
    );
    await storeSecrets(tx, sealer, projectId, prepared);
  });
  return prepared.webhooks;
}

/** The opened secret and URL of one webhook, for signing and sending (never for a response, an event or a log). */
export async function revealSecret(
  q: Queryable,
  sealer: Sealer,
  projectId: string,
  webhookId: string,
): Promise<WebhookSecret | null> {
  const rows = await q.query<{ sealed: string }>(
    'SELECT sealed FROM webhook_secrets WHERE project_id = $1 AND webhook_id = $2',
    [projectId, webhookId],
  );
  return rows[0]
    ? (JSON.parse(sealer.openText(secretScope(projectId, webhookId), rows[0].sealed)) as WebhookSecret)
    : null;
}
