// API keys (made by `omoi key create`, each with a role and an optional expiry), browser sessions
// made from a key (the web UI's login), and worker tokens (one task's scope, short-lived, renewed by
// the orchestrator's heartbeat, revoked the moment the task's run ends). All are random strings
// shown once and stored only as sha256 hashes: they carry 256 random bits, so a fast hash is enough
// to make a leaked table useless.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../base/errors.js';
import { registerSecret } from '../base/redact.js';
import { type ApiKey, KEY_ROLES, type KeyRole } from '../contracts/api.js';
import type { Db } from '../db/client.js';
import { isUuid } from './projects.js';
import { plain } from './rows.js';

export const API_KEY_PREFIX = 'omoi_sk_';
export const WORKER_TOKEN_PREFIX = 'omoi_wt_';
export const SESSION_PREFIX = 'omoi_ss_';

/**
 * What a key may do. `admin`: everything (keys, projects, settings, approving specs). `member`:
 * tickets, task cancel/retry/create, answers, and reading. `read`: GET only.
 */
export const ROLES = KEY_ROLES;
export type Role = KeyRole;

/** How long a web UI session lasts (it never outlives its key). */
export const SESSION_TTL_MS = 12 * 60 * 60_000;

export type { ApiKey } from '../contracts/api.js';

/**
 * Who a request is. `local` is the user on a loopback server who sent no key (admin-equivalent);
 * `api_key` is a key or a session made from one (`sessionId` set).
 */
export type Principal =
  | { kind: 'local' }
  | { kind: 'api_key'; id: string; name: string; role: Role; sessionId?: string }
  | { kind: 'worker'; tokenId: string; taskId: string; projectId: string; ticketId: string | null };

/** The role a principal acts with (a worker has its own narrow route list instead). */
export function roleOf(principal: Principal): Role | 'worker' {
  if (principal.kind === 'local') return 'admin';
  if (principal.kind === 'worker') return 'worker';
  return principal.role;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function newSecret(prefix: string): string {
  const secret = `${prefix}${randomBytes(32).toString('base64url')}`;
  registerSecret(secret);
  return secret;
}

function sameSecret(a: string, b: string): boolean {
  const ha = Buffer.from(hashSecret(a), 'hex');
  const hb = Buffer.from(hashSecret(b), 'hex');
  return timingSafeEqual(ha, hb);
}

/**
 * A duration such as `30d`, `12h`, `90m` or `2w` in milliseconds; `never` is null.
 *
 * @example
 * parseDuration('30d'); // 2_592_000_000
 */
export function parseDuration(text: string): number | null {
  if (text.trim() === 'never') return null;
  const match = /^(\d{1,6})\s*([mhdw])$/.exec(text.trim());
  if (!match)
    throw new AppError('VALIDATION_FAILED', `"${text}" is not a duration such as 30d, 12h, 90m or 2w`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 'm' | 'h' | 'd' | 'w'];
  const ms = Number(match[1]) * unit;
  if (ms <= 0) throw new AppError('VALIDATION_FAILED', 'a key must live for more than 0 minutes');
  return ms;
}

export interface KeysOptions {
  /** OMOI_API_KEY: a key from the environment, accepted besides the stored ones (admin). */
  envApiKey?: string;
}

const KEY_COLUMNS = 'id, name, prefix, role, created_at, expires_at, last_used_at, revoked_at';

export function createKeysService(db: Db, options: KeysOptions = {}) {
  if (options.envApiKey) registerSecret(options.envApiKey);

  /** The principal of an API key, or null when it is unknown, revoked or expired. */
  async function verifyApiKey(secret: string): Promise<Principal | null> {
    if (options.envApiKey && sameSecret(secret, options.envApiKey))
      return { kind: 'api_key', id: 'env', name: 'OMOI_API_KEY', role: 'admin' };
    if (!secret.startsWith(API_KEY_PREFIX)) return null;
    const rows = await db.query<{ id: string; name: string; role: Role }>(
      `UPDATE api_keys SET last_used_at = now()
        WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
       RETURNING id::text AS id, name, role`,
      [hashSecret(secret)],
    );
    const row = rows[0];
    return row ? { kind: 'api_key', id: row.id, name: row.name, role: row.role } : null;
  }

  return {
    /** Creates an API key; the returned `key` is the only time it is ever shown. */
    async create(
      name: string,
      opts: { role?: Role; expiresInMs?: number | null } = {},
    ): Promise<ApiKey & { key: string }> {
      const key = newSecret(API_KEY_PREFIX);
      const rows = await db.query<Record<string, unknown>>(
        `INSERT INTO api_keys (name, key_hash, prefix, role, expires_at)
         VALUES ($1, $2, $3, $4,
                 CASE WHEN $5::double precision IS NULL THEN NULL
                      ELSE now() + make_interval(secs => $5::double precision / 1000) END)
         RETURNING ${KEY_COLUMNS}`,
        [
          name,
          hashSecret(key),
          key.slice(0, API_KEY_PREFIX.length + 6),
          opts.role ?? 'admin',
          opts.expiresInMs ?? null,
        ],
      );
      return { ...plain<ApiKey>(rows[0]!), key };
    },

    async list(): Promise<ApiKey[]> {
      const rows = await db.query<Record<string, unknown>>(
        `SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`,
      );
      return rows.map((r) => plain<ApiKey>(r));
    },

    /**
     * Revokes a key named by its id or by its prefix (as `omoi key list` shows it), and ends the
     * sessions made from it. An unknown or already revoked key is NOT_FOUND; a prefix that names
     * several active keys is CONFLICT.
     */
    async revoke(idOrPrefix: string): Promise<ApiKey> {
      return db.transaction(async (tx) => {
        const matches = isUuid(idOrPrefix)
          ? await tx.query<{ id: string }>(
              'SELECT id::text AS id FROM api_keys WHERE id = $1 AND revoked_at IS NULL',
              [idOrPrefix],
            )
          : idOrPrefix.length >= 4
            ? await tx.query<{ id: string }>(
                `SELECT id::text AS id FROM api_keys WHERE revoked_at IS NULL AND starts_with(prefix, $1)`,
                [idOrPrefix],
              )
            : [];
        if (matches.length === 0) throw new AppError('NOT_FOUND', `no active API key ${idOrPrefix}`);
        if (matches.length > 1)
          throw new AppError('CONFLICT', `"${idOrPrefix}" names ${matches.length} keys: give the id`);
        const rows = await tx.query<Record<string, unknown>>(
          `UPDATE api_keys SET revoked_at = now() WHERE id = $1 RETURNING ${KEY_COLUMNS}`,
          [matches[0]!.id],
        );
        await tx.query(
          'UPDATE api_sessions SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL',
          [matches[0]!.id],
        );
        return plain<ApiKey>(rows[0]!);
      });
    },

    /** Whether any way to authenticate exists (a live stored key or OMOI_API_KEY). */
    async anyKey(): Promise<boolean> {
      if (options.envApiKey) return true;
      const rows = await db.query(
        `SELECT 1 FROM api_keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
          AND role = 'admin' LIMIT 1`,
      );
      return rows.length > 0;
    },

    /**
     * Mints a token for one task's worker: it can read that task and its ticket, post events for
     * that task and sync its own ticket's spec documents, until it expires (the orchestrator's
     * heartbeat renews it) or the task's run ends (revoked in the status change's transaction).
     *
     * @example
     * const token = await keys.mintWorkerToken({ taskId, projectId, ticketId, ttlMs: 15 * 60_000 });
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

    /** Pushes the expiry of a running task's live tokens to `ttlMs` from now (the heartbeat). */
    async renewWorkerTokens(taskId: string, ttlMs: number): Promise<void> {
      await db.query(
        `UPDATE worker_tokens SET expires_at = now() + make_interval(secs => $2::double precision / 1000)
          WHERE task_id = $1 AND revoked_at IS NULL AND expires_at > now()`,
        [taskId, ttlMs],
      );
    },

    /** Revokes every token of a task (its run is over). */
    /** Revokes one worker token (a run's, when it ends); other runs' tokens of the task stay. */
    async revokeWorkerToken(token: string): Promise<void> {
      await db.query(
        'UPDATE worker_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL',
        [hashSecret(token)],
      );
    },

    async revokeWorkerTokens(taskId: string): Promise<void> {
      await db.query(
        'UPDATE worker_tokens SET revoked_at = now() WHERE task_id = $1 AND revoked_at IS NULL',
        [taskId],
      );
    },

    /**
     * Logs a key in for the web UI: a session secret (for an HttpOnly cookie) that acts with the
     * key's role until it expires, is ended, or its key is revoked. Null when the key is not valid.
     */
    async createSession(
      key: string,
    ): Promise<{ session: string; principal: Principal; expiresAt: Date } | null> {
      const principal = await verifyApiKey(key);
      if (principal?.kind !== 'api_key') return null;
      const session = newSecret(SESSION_PREFIX);
      const rows = await db.query<{ id: string; expires_at: Date | string }>(
        `INSERT INTO api_sessions (session_hash, key_id, role, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4::double precision / 1000))
         RETURNING id::text AS id, expires_at`,
        [hashSecret(session), principal.id === 'env' ? null : principal.id, principal.role, SESSION_TTL_MS],
      );
      return {
        session,
        principal: { ...principal, sessionId: rows[0]!.id },
        expiresAt: new Date(rows[0]!.expires_at),
      };
    },

    /** Ends a session (logout). */
    async endSession(session: string): Promise<void> {
      await db.query(
        'UPDATE api_sessions SET revoked_at = now() WHERE session_hash = $1 AND revoked_at IS NULL',
        [hashSecret(session)],
      );
    },

    /** The principal a presented secret stands for, or null when it is unknown, revoked or expired. */
    async verify(secret: string): Promise<Principal | null> {
      if (secret.startsWith(WORKER_TOKEN_PREFIX)) {
        // Never for a finished task: its token is dead even if a revocation was missed (the
        // migration's trigger revokes tokens when the run ends; a retry gets a new token).
        const rows = await db.query<{
          id: string;
          task_id: string;
          project_id: string;
          ticket_id: string | null;
        }>(
          `SELECT w.id::text AS id, w.task_id::text AS task_id, w.project_id::text AS project_id,
                  w.ticket_id::text AS ticket_id
             FROM worker_tokens w JOIN tasks t ON t.id = w.task_id
            WHERE w.token_hash = $1 AND w.revoked_at IS NULL AND w.expires_at > now()
              AND t.status NOT IN ('completed', 'failed', 'cancelled', 'blocked')`,
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
      if (secret.startsWith(SESSION_PREFIX)) {
        const rows = await db.query<{ id: string; key_id: string | null; name: string | null; role: Role }>(
          `SELECT s.id::text AS id, s.key_id::text AS key_id, k.name, s.role
             FROM api_sessions s LEFT JOIN api_keys k ON k.id = s.key_id
            WHERE s.session_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
              AND (s.key_id IS NULL OR (k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())))`,
          [hashSecret(secret)],
        );
        const row = rows[0];
        if (!row) return null;
        if (row.key_id === null && !options.envApiKey) return null;
        return {
          kind: 'api_key',
          id: row.key_id ?? 'env',
          name: row.name ?? 'OMOI_API_KEY',
          role: row.role,
          sessionId: row.id,
        };
      }
      return verifyApiKey(secret);
    },
  };
}

export type KeysService = ReturnType<typeof createKeysService>;
