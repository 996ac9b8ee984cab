// API keys (full access, made by `omoi key create`) and worker tokens (one task's scope, expiring,
// minted by the orchestrator for a sandbox). Both are random strings shown once and stored only as
// sha256 hashes: they carry 256 random bits, so a fast hash is enough to make a leaked table useless.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../base/errors.js';
import type { Db } from '../db/client.js';
import { isUuid } from './projects.js';
import { plain } from './rows.js';

export const API_KEY_PREFIX = 'omoi_sk_';
export const WORKER_TOKEN_PREFIX = 'omoi_wt_';

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** Who a request is. `local` is the user on a loopback server who sent no key. */
export type Principal =
  | { kind: 'local' }
  | { kind: 'api_key'; id: string; name: string }
  | { kind: 'worker'; tokenId: string; taskId: string; projectId: string; ticketId: string | null };

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

function sameSecret(a: string, b: string): boolean {
  const ha = Buffer.from(hashSecret(a), 'hex');
  const hb = Buffer.from(hashSecret(b), 'hex');
  return timingSafeEqual(ha, hb);
}

export interface KeysOptions {
  /** OMOI_API_KEY: a key from the environment, accepted besides the stored ones. */
  envApiKey?: string;
}

export function createKeysService(db: Db, options: KeysOptions = {}) {
  return {
    /** Creates an API key; the returned `key` is the only time it is ever shown. */
    async create(name: string): Promise<ApiKey & { key: string }> {
      const key = newSecret(API_KEY_PREFIX);
      const rows = await db.query<Record<string, unknown>>(
        `INSERT INTO api_keys (name, key_hash, prefix) VALUES ($1, $2, $3)
         RETURNING id, name, prefix, created_at, last_used_at, revoked_at`,
        [name, hashSecret(key), key.slice(0, API_KEY_PREFIX.length + 6)],
      );
      return { ...plain<ApiKey>(rows[0]!), key };
    },

    async list(): Promise<ApiKey[]> {
      const rows = await db.query<Record<string, unknown>>(
        'SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys ORDER BY created_at',
      );
      return rows.map((r) => plain<ApiKey>(r));
    },

    async revoke(id: string): Promise<void> {
      const rows = isUuid(id)
        ? await db.query(
            'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id',
            [id],
          )
        : [];
      if (!rows[0]) throw new AppError('NOT_FOUND', `no active API key with id ${id}`);
    },

    /** Whether any way to authenticate exists (a stored key or OMOI_API_KEY). */
    async anyKey(): Promise<boolean> {
      if (options.envApiKey) return true;
      const rows = await db.query('SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1');
      return rows.length > 0;
    },

    /**
     * Mints a token for one task's worker: it can read that task and its ticket, post events for
     * that task and sync specs of that project, until it expires.
     *
     * @example
     * const token = await keys.mintWorkerToken({ taskId, projectId, ticketId, ttlMs: 2 * 3600_000 });
     */
    async mintWorkerToken(args: {
      taskId: string;
      projectId: string;
      ticketId: string | null;
      ttlMs: number;
    }): Promise<string> {
      const token = newSecret(WORKER_TOKEN_PREFIX);
      await db.query(
        `INSERT INTO worker_tokens (token_hash, task_id, project_id, ticket_id, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::double precision / 1000))`,
        [hashSecret(token), args.taskId, args.projectId, args.ticketId, args.ttlMs],
      );
      return token;
    },

    /** Revokes every token of a task (its run is over). */
    async revokeWorkerTokens(taskId: string): Promise<void> {
      await db.query(
        'UPDATE worker_tokens SET revoked_at = now() WHERE task_id = $1 AND revoked_at IS NULL',
        [taskId],
      );
    },

    /** The principal a presented secret stands for, or null when it is unknown, revoked or expired. */
    async verify(secret: string): Promise<Principal | null> {
      if (options.envApiKey && sameSecret(secret, options.envApiKey))
        return { kind: 'api_key', id: 'env', name: 'OMOI_API_KEY' };
      if (secret.startsWith(WORKER_TOKEN_PREFIX)) {
        const rows = await db.query<{
          id: string;
          task_id: string;
          project_id: string;
          ticket_id: string | null;
        }>(
          `SELECT id::text AS id, task_id::text AS task_id, project_id::text AS project_id, ticket_id::text AS ticket_id
             FROM worker_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()`,
          [hashSecret(secret)],
        );
        const row = rows[0];
        return row
          ? {
              kind: 'worker',
              tokenId: row.id,
              taskId: row.task_id,
              projectId: row.project_id,
              ticketId: row.ticket_id,
            }
          : null;
      }
      if (secret.startsWith(API_KEY_PREFIX)) {
        const rows = await db.query<{ id: string; name: string }>(
          `UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL
           RETURNING id::text AS id, name`,
          [hashSecret(secret)],
        );
        const row = rows[0];
        return row ? { kind: 'api_key', id: row.id, name: row.name } : null;
      }
      return null;
    },
  };
}

export type KeysService = ReturnType<typeof createKeysService>;
