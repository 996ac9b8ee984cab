// The keys service on a real database, below the HTTP suites: how key lifetimes are read, which
// names revoke which key, when a server counts as having a key, what a session and a worker token
// stand for after their key, their task or the server's OMOI_API_KEY changed.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/db.js';
import { AppError } from '../base/errors.js';
import { REDACTED, redact } from '../base/redact.js';
import type { Db } from '../db/client.js';
import { API_KEY_PREFIX, createKeysService, hashSecret, parseDuration, roleOf } from './keys.js';
import { createServices, type Services } from './services.js';

describe('parseDuration', () => {
  it('reads minutes, hours, days and weeks, and never', () => {
    expect(parseDuration('90m')).toBe(90 * 60_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('30d')).toBe(2_592_000_000);
    expect(parseDuration(' 2 w ')).toBe(2 * 604_800_000);
    expect(parseDuration(' never ')).toBeNull();
  });

  it.each(['0m', '5', '5s', 'd', '-1d', '1.5h', '30days', '1000000d', 'forever'])('refuses "%s"', (text) => {
    expect(() => parseDuration(text)).toThrow(AppError);
    try {
      parseDuration(text);
    } catch (error) {
      expect((error as AppError).code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('roleOf', () => {
  it('gives the local user admin, a key its role, a worker none of the three', () => {
    expect(roleOf({ kind: 'local' })).toBe('admin');
    expect(roleOf({ kind: 'api_key', id: 'k', name: 'n', role: 'read' })).toBe('read');
    expect(roleOf({ kind: 'worker', tokenId: 't', taskId: 'a', projectId: 'p', ticketId: null })).toBe(
      'worker',
    );
  });
});

describeEachDatabase('keys service', (getDb) => {
  let db: Db;
  let services: Services;

  beforeAll(async () => {
    db = getDb();
    services = await createServices(db);
  });
  afterAll(async () => {
    await services?.stop();
  });

  /** Runs `check` on a database with no key at all. */
  async function withoutKeys(check: () => Promise<void>) {
    await db.query('UPDATE api_keys SET revoked_at = now() WHERE revoked_at IS NULL');
    await check();
  }

  async function aTask() {
    const project = await services.projects.create({
      name: `keys-${randomUUID()}`,
      repo_url: 'https://example.com/keys.git',
    });
    const { ticket, task } = await services.tickets.create({
      project_id: project.id,
      description: 'Keys test',
      workflow_mode: 'quick',
    });
    return { taskId: task.id, projectId: project.id, ticketId: ticket.id };
  }

  it('counts only a live admin key (or OMOI_API_KEY) as a way in', async () => {
    const keys = createKeysService(db);
    await withoutKeys(async () => {
      expect(await keys.anyKey()).toBe(false);
      await keys.create('a member', { role: 'member' });
      await keys.create('a reader', { role: 'read' });
      expect(await keys.anyKey()).toBe(false);
      const expired = await keys.create('an old admin', { expiresInMs: 1 });
      await new Promise((r) => setTimeout(r, 20));
      expect(await keys.verify(expired.key)).toBeNull();
      expect(await keys.anyKey()).toBe(false);
      expect(await createKeysService(db, { envApiKey: 'omoi-env-key-0123456789' }).anyKey()).toBe(true);
      await keys.create('an admin');
      expect(await keys.anyKey()).toBe(true);
    });
  });

  it('revokes by id or by a prefix of four or more characters that names one key', async () => {
    const keys = createKeysService(db);
    const a = await keys.create('a');
    const b = await keys.create('b');
    const prefixOf = (key: string) => key.slice(0, API_KEY_PREFIX.length + 6);

    // The shared `omoi_sk_` (or any four characters of it) names every key: refused, naming how many.
    await expect(keys.revoke(API_KEY_PREFIX)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(keys.revoke('omoi')).rejects.toMatchObject({ code: 'CONFLICT' });
    // Three characters name nothing, even when they are the start of a key.
    await expect(keys.revoke(a.key.slice(0, 3))).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const revoked = await keys.revoke(prefixOf(a.key));
    expect(revoked.id).toBe(a.id);
    expect(revoked.revoked_at).not.toBeNull();
    expect(await keys.verify(a.key)).toBeNull();
    await expect(keys.revoke(a.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    expect((await keys.revoke(b.id)).id).toBe(b.id);
    expect(await keys.verify(b.key)).toBeNull();
    await expect(keys.revoke(randomUUID())).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('acts with the key’s role, marks its last use, and refuses what is not a key', async () => {
    const keys = createKeysService(db);
    const member = await keys.create('member', { role: 'member' });
    // Keys carry their kind in the open (the CLI and redaction recognise them by it).
    expect(member.key).toMatch(/^omoi_sk_[\w-]{43}$/);
    expect(member.prefix).toBe(member.key.slice(0, 14));
    expect(member.last_used_at).toBeNull();
    expect(await keys.verify(member.key)).toEqual({
      kind: 'api_key',
      id: member.id,
      name: 'member',
      role: 'member',
    });
    const listed = (await keys.list()).find((k) => k.id === member.id)!;
    expect(listed.last_used_at).not.toBeNull();
    expect(await keys.verify(`${API_KEY_PREFIX}not-a-real-key`)).toBeNull();
    expect(await keys.verify(member.key.slice(API_KEY_PREFIX.length))).toBeNull();
  });

  it('makes a session only from a key, with its role, that ends with the key or at logout', async () => {
    const keys = createKeysService(db);
    const reader = await keys.create('reader', { role: 'read' });
    expect(await keys.createSession('omoi_sk_unknown')).toBeNull();
    const { taskId, projectId, ticketId } = await aTask();
    const token = await keys.mintWorkerToken({ taskId, projectId, ticketId, ttlMs: 60_000 });
    expect(await keys.createSession(token)).toBeNull();

    const made = await keys.createSession(reader.key);
    expect(made).not.toBeNull();
    expect(made!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 11 * 3_600_000);
    expect(await keys.verify(made!.session)).toEqual({
      kind: 'api_key',
      id: reader.id,
      name: 'reader',
      role: 'read',
      sessionId: made!.principal.kind === 'api_key' ? made!.principal.sessionId : undefined,
    });
    await keys.endSession(made!.session);
    expect(await keys.verify(made!.session)).toBeNull();

    const again = await keys.createSession(reader.key);
    await keys.revoke(reader.id);
    expect(await keys.verify(again!.session)).toBeNull();
  });

  it('keeps a session of OMOI_API_KEY only while the server still has that key', async () => {
    const envApiKey = `omoi-env-${randomUUID()}`;
    const withEnv = createKeysService(db, { envApiKey });
    const made = await withEnv.createSession(envApiKey);
    expect(made?.principal).toMatchObject({
      kind: 'api_key',
      id: 'env',
      name: 'OMOI_API_KEY',
      role: 'admin',
    });
    // The key is registered for redaction the moment the service knows it.
    expect(redact(`Authorization: Bearer ${envApiKey}`)).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(await withEnv.verify(made!.session)).toMatchObject({
      kind: 'api_key',
      id: 'env',
      name: 'OMOI_API_KEY',
      role: 'admin',
    });
    // Restarted without OMOI_API_KEY: the session it made is dead.
    expect(await createKeysService(db).verify(made!.session)).toBeNull();
    expect(await createKeysService(db).verify(envApiKey)).toBeNull();
  });

  it('renews only live tokens of the task, and a token dies with its task’s run', async () => {
    const keys = createKeysService(db);
    const mine = await aTask();
    const other = await aTask();
    const expiresAt = async (token: string) =>
      (
        await db.query<{ expires_at: string | Date }>(
          'SELECT expires_at FROM worker_tokens WHERE token_hash = $1',
          [hashSecret(token)],
        )
      ).map((r) => new Date(r.expires_at).getTime())[0]!;

    const live = await keys.mintWorkerToken({ ...mine, ttlMs: 60_000 });
    const expired = await keys.mintWorkerToken({ ...mine, ttlMs: 1 });
    const revoked = await keys.mintWorkerToken({ ...mine, ttlMs: 60_000 });
    const others = await keys.mintWorkerToken({ ...other, ttlMs: 60_000 });
    await db.query('UPDATE worker_tokens SET revoked_at = now() WHERE token_hash = $1', [
      hashSecret(revoked),
    ]);
    await new Promise((r) => setTimeout(r, 20));
    const before = { live: await expiresAt(live), others: await expiresAt(others) };

    await keys.renewWorkerTokens(mine.taskId, 3_600_000);
    expect(await expiresAt(live)).toBeGreaterThan(before.live + 3_000_000);
    expect(await expiresAt(others)).toBe(before.others);
    expect(await keys.verify(expired)).toBeNull();
    expect(await keys.verify(revoked)).toBeNull();
    expect(await keys.verify(live)).toEqual({
      kind: 'worker',
      tokenId: expect.any(String),
      taskId: mine.taskId,
      projectId: mine.projectId,
      ticketId: mine.ticketId,
    });

    // A run that ended blocked (or completed, failed, cancelled) leaves its token dead.
    await db.query(`UPDATE tasks SET status = 'blocked' WHERE id = $1`, [mine.taskId]);
    expect(await keys.verify(live)).toBeNull();
    expect(await keys.verify(others)).toMatchObject({ kind: 'worker', taskId: other.taskId });
    await keys.revokeWorkerTokens(other.taskId);
    expect(await keys.verify(others)).toBeNull();
  });
});
