// Project credentials for private repositories: an https token or an ssh key, sealed at rest with
// AES-256-GCM under the server's secret key (OMOI_SECRET_KEY, else <data>/secret.key, mode 0600,
// made on first need). Routes only ever see the summary; the git broker (and later pull-request
// creation) opens the secret on the server with `reveal`.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../base/errors.js';
import type { Db, Queryable } from '../db/client.js';
import { isUuid } from './projects.js';
import { plain } from './rows.js';

export type CredentialInput =
  | { kind: 'https_token'; secret: string; username?: string | undefined }
  | { kind: 'ssh_key'; private_key: string; known_hosts?: string | undefined };

/** What a route may show: never the secret. */
export interface CredentialSummary {
  kind: CredentialInput['kind'];
  username?: string;
  created_at: string;
}

/** The opened credential, for the server's own git (never for a response, an event or a log). */
export type Credential =
  | { kind: 'https_token'; username: string; secret: string }
  | { kind: 'ssh_key'; privateKey: string; knownHosts: string | null };

export interface CredentialsOptions {
  /** OMOI_SECRET_KEY: 64 hex characters or base64 of 32 bytes; any other string (32+ characters) is hashed into a key. */
  secretKey?: string | undefined;
  /** The data folder holding secret.key when OMOI_SECRET_KEY is unset. */
  dataDir?: string | undefined;
}

/** The username an https token is sent with when none is given (GitHub, GitLab and Gitea accept any). */
export const DEFAULT_TOKEN_USERNAME = 'x-access-token';

/** Turns OMOI_SECRET_KEY into 32 key bytes. */
export function parseSecretKey(value: string): Buffer {
  const text = value.trim();
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length === 32) return bytes;
  }
  if (text.length < 32)
    throw new AppError(
      'CONFIG_INVALID',
      'OMOI_SECRET_KEY must be 32 bytes (64 hex characters or base64) or a passphrase of 32+ characters',
    );
  return createHash('sha256').update(`omoi-secret-key:${text}`).digest();
}

/** Reads `<dataDir>/secret.key`, creating it (mode 0600) when missing; refuses one others can read. */
export function loadKeyFile(dataDir: string): Buffer {
  const file = join(dataDir, 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    chmodSync(file, 0o600);
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new AppError(
      'CONFIG_INVALID',
      `${file} is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it`,
    );
  return parseSecretKey(readFileSync(file, 'utf8'));
}

/** Seals `plain` for `projectId`: base64(iv | tag | ciphertext). */
export function seal(key: Buffer, projectId: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(projectId));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

/** Opens a value made by `seal`; a wrong key or a value moved to another project is CONFIG_INVALID. */
export function unseal(key: Buffer, projectId: string, sealed: string): string {
  const bytes = Buffer.from(sealed, 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(projectId));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new AppError(
      'CONFIG_INVALID',
      `the credential of project ${projectId} cannot be opened with this server's secret key (OMOI_SECRET_KEY or secret.key changed?)`,
      { cause: error },
    );
  }
}

/** Checks an input and throws BAD_REQUEST with a reason (the zod schema checks the shape). */
export function checkCredential(input: CredentialInput): void {
  if (input.kind === 'https_token') {
    if (/[\s\0]/.test(input.secret) || input.secret.length === 0)
      throw new AppError('BAD_REQUEST', 'the token must be one word without spaces or control characters');
    if (input.username !== undefined && !/^[^\s:\0/@]{1,100}$/.test(input.username))
      throw new AppError('BAD_REQUEST', 'the username has no spaces, colons, slashes or @');
  } else {
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(input.private_key))
      throw new AppError(
        'BAD_REQUEST',
        'private_key must be a PEM or OpenSSH private key (-----BEGIN … PRIVATE KEY-----)',
      );
    if (input.private_key.includes('\0') || input.known_hosts?.includes('\0'))
      throw new AppError('BAD_REQUEST', 'the key holds a NUL byte');
  }
}

/**
 * A repository URL with a credential in it (`https://user:token@host/…`) split into the URL without
 * it and the credential; any other location comes back as it is.
 *
 * @example
 * splitRepoUrl('https://bob:ghp_x@github.com/o/r.git');
 * // { url: 'https://github.com/o/r.git', credential: { kind: 'https_token', username: 'bob', secret: 'ghp_x' } }
 */
export function splitRepoUrl(location: string): {
  url: string;
  credential: Extract<CredentialInput, { kind: 'https_token' }> | null;
} {
  if (!/^https?:\/\//i.test(location)) return { url: location, credential: null };
  let parsed: URL;
  try {
    parsed = new URL(location);
  } catch {
    return { url: location, credential: null };
  }
  if (!parsed.username && !parsed.password) return { url: location, credential: null };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  // `https://token@host/…` (GitHub's form) carries the token as the user name.
  const credential = password
    ? { kind: 'https_token' as const, username: user || DEFAULT_TOKEN_USERNAME, secret: password }
    : { kind: 'https_token' as const, secret: user };
  return { url: parsed.toString(), credential };
}

export function createCredentialsService(db: Db, options: CredentialsOptions = {}) {
  let key: Buffer | null = null;
  const secretKey = (): Buffer => {
    if (key) return key;
    if (options.secretKey) key = parseSecretKey(options.secretKey);
    else if (options.dataDir) key = loadKeyFile(options.dataDir);
    else
      throw new AppError(
        'CONFIG_INVALID',
        'no secret key to seal credentials with: set OMOI_SECRET_KEY or give the server a data folder',
      );
    return key;
  };

  return {
    /**
     * Seals another secret of the server's (a webhook's), bound to `scope` (the additional
     * authenticated data): a value moved to another scope does not open.
     */
    sealText: (scope: string, text: string): string => seal(secretKey(), scope, text),
    /** Opens a value of `sealText` under the same scope. */
    openText: (scope: string, sealed: string): string => unseal(secretKey(), scope, sealed),

    /** Stores (or replaces) the project's credential, sealed. */
    async set(projectId: string, input: CredentialInput, q: Queryable = db): Promise<CredentialSummary> {
      checkCredential(input);
      const payload =
        input.kind === 'https_token'
          ? { secret: input.secret }
          : { private_key: input.private_key, known_hosts: input.known_hosts ?? null };
      const username = input.kind === 'https_token' ? (input.username ?? DEFAULT_TOKEN_USERNAME) : null;
      const rows = await q.query<Record<string, unknown>>(
        `INSERT INTO project_credentials (project_id, kind, username, sealed) VALUES ($1, $2, $3, $4)
         ON CONFLICT (project_id) DO UPDATE SET kind = EXCLUDED.kind, username = EXCLUDED.username,
           sealed = EXCLUDED.sealed, created_at = now()
         RETURNING kind, username, created_at`,
        [projectId, input.kind, username, seal(secretKey(), projectId, JSON.stringify(payload))],
      );
      return summaryOf(rows[0]!);
    },

    /** Removes the project's credential; false when it had none. */
    async remove(projectId: string): Promise<boolean> {
      if (!isUuid(projectId)) return false;
      const rows = await db.query(
        'DELETE FROM project_credentials WHERE project_id = $1 RETURNING project_id',
        [projectId],
      );
      return rows.length > 0;
    },

    /** What routes show of the project's credential, or null. */
    async summary(projectId: string): Promise<CredentialSummary | null> {
      if (!isUuid(projectId)) return null;
      const rows = await db.query<Record<string, unknown>>(
        'SELECT kind, username, created_at FROM project_credentials WHERE project_id = $1',
        [projectId],
      );
      return rows[0] ? summaryOf(rows[0]) : null;
    },

    /** Summaries of every project that has a credential, by project id. */
    async summaries(): Promise<Map<string, CredentialSummary>> {
      const rows = await db.query<Record<string, unknown>>(
        'SELECT project_id::text AS project_id, kind, username, created_at FROM project_credentials',
      );
      return new Map(rows.map((r) => [String(r.project_id), summaryOf(r)]));
    },

    /**
     * The opened credential for the server's own use (the git broker, pull requests), or null.
     * Never put it in a response, an event, a log line or a sandbox.
     */
    async reveal(projectId: string): Promise<Credential | null> {
      if (!isUuid(projectId)) return null;
      const rows = await db.query<{ kind: string; username: string | null; sealed: string }>(
        'SELECT kind, username, sealed FROM project_credentials WHERE project_id = $1',
        [projectId],
      );
      const row = rows[0];
      if (!row) return null;
      const payload = JSON.parse(unseal(secretKey(), projectId, row.sealed)) as Record<string, string | null>;
      return row.kind === 'https_token'
        ? {
            kind: 'https_token',
            username: row.username ?? DEFAULT_TOKEN_USERNAME,
            secret: String(payload.secret),
          }
        : {
            kind: 'ssh_key',
            privateKey: String(payload.private_key),
            knownHosts: payload.known_hosts ?? null,
          };
    },
  };
}

function summaryOf(row: Record<string, unknown>): CredentialSummary {
  const r = plain<{ kind: CredentialSummary['kind']; username: string | null; created_at: string }>(row);
  return { kind: r.kind, ...(r.username ? { username: r.username } : {}), created_at: r.created_at };
}

export type CredentialsService = ReturnType<typeof createCredentialsService>;
