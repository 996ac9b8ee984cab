// A project's webhooks: kept in projects.settings.webhooks without their secrets (so every route that
// shows a project shows them safely), each secret sealed in webhook_secrets. Written through
// `prepareWebhooks` (checks each target, assigns ids, splits the secrets off) then `storeSecrets`.
import { randomUUID } from 'node:crypto';
import { AppError } from '../base/errors.js';
import type { WebhookSetting } from '../contracts/api.js';
import { type Db, json, type Queryable } from '../db/client.js';
import { checkedAddresses, type Resolver } from './targets.js';

/** What a project stores of one webhook (never the secret). */
export interface StoredWebhook {
  id: string;
  url: string;
  events?: WebhookSetting['events'];
  format: 'json' | 'slack';
  has_secret: true;
}

/** What sealText/openText of the credentials service offer. */
export interface Sealer {
  sealText(scope: string, text: string): string;
  openText(scope: string, sealed: string): string;
}

/** The scope a secret is sealed under: it opens only for this project and webhook. */
export const secretScope = (projectId: string, webhookId: string) => `webhook:${projectId}:${webhookId}`;

export interface PreparedWebhooks {
  webhooks: StoredWebhook[];
  /** New secrets by webhook id (a kept webhook sent without one keeps its old one). */
  secrets: Map<string, string>;
}

/**
 * Checks a list as written (targets resolved and refused when private, a secret for each new one)
 * and splits it into what the settings hold and the secrets to seal.
 *
 * @example
 * const prepared = await prepareWebhooks([{ url: 'https://hooks.example.com/x', secret: '…16+…' }], [], { allowPrivate: false });
 */
export async function prepareWebhooks(
  input: WebhookSetting[],
  existing: StoredWebhook[],
  options: { allowPrivate: boolean; resolve?: Resolver },
): Promise<PreparedWebhooks> {
  const known = new Set(existing.map((w) => w.id));
  const webhooks: StoredWebhook[] = [];
  const secrets = new Map<string, string>();
  for (const [index, item] of input.entries()) {
    await checkedAddresses(item.url, options);
    const id = item.id ?? randomUUID();
    if (webhooks.some((w) => w.id === id))
      throw new AppError('BAD_REQUEST', `webhooks[${index}]: id ${id} appears twice`);
    if (item.secret) secrets.set(id, item.secret);
    else if (!known.has(id))
      throw new AppError(
        'BAD_REQUEST',
        `webhooks[${index}]: a new webhook needs a secret (16+ characters) to sign its deliveries`,
      );
    webhooks.push({
      id,
      url: item.url,
      ...(item.events ? { events: [...new Set(item.events)] } : {}),
      format: item.format ?? 'json',
      has_secret: true,
    });
  }
  return { webhooks, secrets };
}

/** Seals the new secrets and drops those of webhooks no longer listed. */
export async function storeSecrets(
  q: Queryable,
  sealer: Sealer,
  projectId: string,
  prepared: PreparedWebhooks,
): Promise<void> {
  const ids = prepared.webhooks.map((w) => w.id);
  await q.query('DELETE FROM webhook_secrets WHERE project_id = $1 AND NOT (webhook_id = ANY($2::text[]))', [
    projectId,
    ids,
  ]);
  for (const [id, secret] of prepared.secrets)
    await q.query(
      `INSERT INTO webhook_secrets (project_id, webhook_id, sealed) VALUES ($1, $2, $3)
       ON CONFLICT (project_id, webhook_id) DO UPDATE SET sealed = EXCLUDED.sealed, created_at = now()`,
      [projectId, id, sealer.sealText(secretScope(projectId, id), secret)],
    );
}

/** The webhooks a project's settings hold. */
export function webhooksOf(settings: unknown): StoredWebhook[] {
  const list = (settings as { webhooks?: unknown } | null)?.webhooks;
  return Array.isArray(list) ? (list as StoredWebhook[]) : [];
}

/** Replaces a project's webhooks (settings and secrets in one transaction). */
export async function replaceWebhooks(
  db: Db,
  sealer: Sealer,
  projectId: string,
  input: WebhookSetting[],
  options: { allowPrivate: boolean; resolve?: Resolver },
): Promise<StoredWebhook[]> {
  const rows = await db.query<{ settings: unknown }>('SELECT settings FROM projects WHERE id = $1', [
    projectId,
  ]);
  if (!rows[0]) throw new AppError('NOT_FOUND', `no project with id ${projectId}`);
  const prepared = await prepareWebhooks(input, webhooksOf(rows[0].settings), options);
  await db.transaction(async (tx) => {
    await tx.query(
      `UPDATE projects SET settings = jsonb_set(settings, '{webhooks}', $2::jsonb), updated_at = now() WHERE id = $1`,
      [projectId, json(prepared.webhooks)],
    );
    await storeSecrets(tx, sealer, projectId, prepared);
  });
  return prepared.webhooks;
}

/** The opened secret of one webhook, for signing (never for a response, an event or a log). */
export async function revealSecret(
  q: Queryable,
  sealer: Sealer,
  projectId: string,
  webhookId: string,
): Promise<string | null> {
  const rows = await q.query<{ sealed: string }>(
    'SELECT sealed FROM webhook_secrets WHERE project_id = $1 AND webhook_id = $2',
    [projectId, webhookId],
  );
  return rows[0] ? sealer.openText(secretScope(projectId, webhookId), rows[0].sealed) : null;
}
