// Delivers webhooks. Two steps, both driven by the table so a restart loses nothing:
//   scan:    read the event log after the stored cursor (after commit: the hub only hands out
//            committed events, never inside the transaction of the change), turn each watched event
//            into one delivery row per webhook that hears it, and move the cursor, in one transaction;
//   deliver: claim due rows (SKIP LOCKED, so several servers share them), sign, POST, record the
//            answer; a failure is retried with exponential backoff until maxAttempts.
// The event hub wakes the scan; a timer catches retries and anything a wake-up missed.
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { VERSION } from '../base/version.js';
import type { OmoiEvent } from '../contracts/events.js';
import { WEBHOOK_HEADERS, type WebhookEvent } from '../contracts/webhooks.js';
import type { EventHub } from '../core/events.js';
import { plain } from '../core/rows.js';
import type { Db, Tx } from '../db/client.js';
import { payloadBody, WATCHED_TYPES, webhookEventOf } from './events.js';
import { revealSecret, type Sealer, webhooksOf } from './settings.js';
import { signatureHeader } from './signature.js';
import { checkedAddresses, guardedLookup, parseWebhookUrl, type Resolver } from './targets.js';

export interface DispatcherOptions {
  db: Db;
  hub: EventHub;
  sealer: Sealer;
  /** OMOI_WEBHOOK_ALLOW_PRIVATE: deliver to loopback and private addresses too. */
  allowPrivate: boolean;
  /** Attempts per delivery before it is failed (OMOI_WEBHOOK_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** The first retry's delay; each next one doubles (OMOI_WEBHOOK_RETRY_BASE_MS). */
  retryBaseMs: number;
  /** How long one attempt may take. */
  timeoutMs?: number;
  resolve?: Resolver;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

const CURSOR = 'webhooks';
const SCAN_BATCH = 500;
const IN_FLIGHT = 4;
/** A claimed row whose sender died is due again after this. */
const SENDING_LEASE_S = 120;

interface DueRow {
  id: string;
  project_id: string;
  webhook_id: string;
  event: WebhookEvent;
  url: string;
  body: string;
  attempts: number;
}

/** Delay before the attempt after `attempts` failed ones. */
export function backoffMs(baseMs: number, attempts: number): number {
  return baseMs * 2 ** Math.max(0, attempts - 1);
}

/**
 * Starts the dispatcher of one server process.
 *
 * @example
 * const dispatcher = await startWebhookDispatcher({ db, hub, sealer: services.credentials, allowPrivate: false, maxAttempts: 5, retryBaseMs: 5000 });
 * await dispatcher.stop();
 */
export async function startWebhookDispatcher(options: DispatcherOptions) {
  const { db } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  const inFlight = new Set<Promise<void>>();
  const guard = {
    allowPrivate: options.allowPrivate,
    ...(options.resolve ? { resolve: options.resolve } : {}),
  };
  const lookup = guardedLookup(guard);

  async function scan(): Promise<void> {
    for (;;) {
      const more = await db.transaction(async (tx) => {
        const cursor = await tx.query<{ last_event_id: number }>(
          'SELECT last_event_id FROM webhook_cursor WHERE name = $1 FOR UPDATE',
          [CURSOR],
        );
        const after = Number(cursor[0]?.last_event_id ?? 0);
        const rows = await tx.query<Record<string, unknown>>(
          `SELECT id, type, ts, project_id, ticket_id, task_id, data FROM events WHERE id > $1 ORDER BY id LIMIT $2`,
          [after, SCAN_BATCH],
        );
        if (rows.length === 0) return false;
        for (const row of rows) {
          const event = plain<OmoiEvent>(row);
          if (!(WATCHED_TYPES as readonly string[]).includes(event.type) || !event.project_id) continue;
          const webhookEvent = webhookEventOf(event);
          if (webhookEvent) await enqueue(tx, event, webhookEvent);
        }
        const last = Number(plain<{ id: number }>(rows[rows.length - 1]!).id);
        await tx.query(
          `INSERT INTO webhook_cursor (name, last_event_id) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET last_event_id = EXCLUDED.last_event_id`,
          [CURSOR, last],
        );
        return rows.length === SCAN_BATCH;
      });
      if (!more) return;
    }
  }

  async function enqueue(tx: Tx, event: OmoiEvent, name: WebhookEvent) {
    const projects = await tx.query<{ id: string; name: string; settings: unknown }>(
      'SELECT id::text AS id, name, settings FROM projects WHERE id = $1',
      [event.project_id],
    );
    const project = projects[0];
    if (!project) return;
    const hooks = webhooksOf(project.settings).filter((w) => !w.events || w.events.includes(name));
    if (hooks.length === 0) return;
    const ticket = event.ticket_id
      ? ((
          await tx.query<{ id: string; ref: string; title: string; status: string }>(
            'SELECT id::text AS id, ref, title, status FROM tickets WHERE id = $1',
            [event.ticket_id],
          )
        )[0] ?? null)
      : null;
    const task = event.task_id
      ? ((
          await tx.query<{ id: string; title: string }>(
            'SELECT id::text AS id, title FROM tasks WHERE id = $1',
            [event.task_id],
          )
        )[0] ?? null)
      : null;
    for (const hook of hooks) {
      const id = randomUUID();
      const body = payloadBody(hook.format, {
        deliveryId: id,
        event,
        webhookEvent: name,
        project: { id: project.id, name: project.name },
        ticket,
        task,
      });
      await tx.query(
        `INSERT INTO webhook_deliveries (id, project_id, webhook_id, event_id, event, url, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (webhook_id, event_id) DO NOTHING`,
        [id, project.id, hook.id, event.id, name, hook.url, body],
      );
    }
  }

  async function claim(): Promise<DueRow | null> {
    const rows = await db.query<Record<string, unknown>>(
      `UPDATE webhook_deliveries SET status = 'sending', attempts = attempts + 1, updated_at = now(),
         next_attempt_at = now() + make_interval(secs => $1)
       WHERE id = (SELECT id FROM webhook_deliveries
                    WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
                    ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id::text AS id, project_id::text AS project_id, webhook_id, event, url, body, attempts`,
      [SENDING_LEASE_S],
    );
    return rows[0] ? plain<DueRow>(rows[0]) : null;
  }

  /** One POST; resolves with the status code, or rejects with why nothing came back. */
  function post(url: URL, headers: Record<string, string>, body: string): Promise<number> {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        { method: 'POST', headers, lookup: lookup as never, timeout: timeoutMs },
        (res) => {
          res.resume(); // the receiver's body is not kept
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async function deliver(row: DueRow): Promise<void> {
    let code: number | null = null;
    let error: string | null = null;
    try {
      // The target is read again: a webhook removed or moved since the event is not called.
      const settings = await db.query<{ settings: unknown }>('SELECT settings FROM projects WHERE id = $1', [
        row.project_id,
      ]);
      const hook = webhooksOf(settings[0]?.settings).find((w) => w.id === row.webhook_id);
      const target = hook ? await revealSecret(db, options.sealer, row.project_id, row.webhook_id) : null;
      if (!hook || !target) {
        await finish(row, 'failed', null, 'the webhook was removed');
        return;
      }
      // Node skips `lookup` for an address literal, so the target is checked here as well; for a
      // name, the socket's own lookup checks what it connects to.
      await checkedAddresses(target.url, guard);
      const timestamp = Math.floor(Date.now() / 1000);
      code = await post(
        parseWebhookUrl(target.url),
        {
          'content-type': 'application/json',
          'user-agent': `omoi-webhooks/${VERSION}`,
          [WEBHOOK_HEADERS.signature]: signatureHeader(target.secret, timestamp, row.body),
          [WEBHOOK_HEADERS.event]: row.event,
          [WEBHOOK_HEADERS.delivery]: row.id,
        },
        row.body,
      );
      if (code >= 200 && code < 300) {
        await finish(row, 'delivered', code, null);
        return;
      }
      error = `the receiver answered ${code}`;
    } catch (caught) {
      error = (caught as Error).message.slice(0, 500);
    }
    if (row.attempts >= options.maxAttempts) await finish(row, 'failed', code, error);
    else {
      await db.query(
        `UPDATE webhook_deliveries SET status = 'pending', response_code = $2, error = $3, updated_at = now(),
           next_attempt_at = now() + make_interval(secs => $4) WHERE id = $1`,
        [row.id, code, error, backoffMs(options.retryBaseMs, row.attempts) / 1000],
      );
    }
  }

  async function finish(
    row: DueRow,
    status: 'delivered' | 'failed',
    code: number | null,
    error: string | null,
  ) {
    await db.query(
      `UPDATE webhook_deliveries SET status = $2, response_code = $3, error = $4, updated_at = now(),
         delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE NULL END WHERE id = $1`,
      [row.id, status, code, error],
    );
    if (status === 'failed')
      options.log?.('webhook delivery failed', {
        delivery: row.id,
        event: row.event,
        error,
        attempts: row.attempts,
      });
  }

  async function deliverDue(): Promise<void> {
    while (!stopped && inFlight.size < IN_FLIGHT) {
      const row = await claim();
      if (!row) return;
      const job: Promise<void> = deliver(row)
        .catch((error: Error) =>
          options.log?.('webhook delivery crashed', { delivery: row.id, error: error.message }),
        )
        .finally(() => {
          inFlight.delete(job);
          tick();
        });
      inFlight.add(job);
    }
  }

  function tick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = scan()
      .then(deliverDue)
      .catch((error: Error) => options.log?.('webhook dispatcher', { error: error.message }))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          tick();
        }
      });
  }

  const unsubscribe = await options.hub.subscribe((batch) => {
    if (batch.some(({ event }) => (WATCHED_TYPES as readonly string[]).includes(event.type))) tick();
  });
  // Retries come due with no event to wake them: poll at the retry pace, at most once a second.
  const timer = setInterval(tick, Math.min(1_000, Math.max(50, options.retryBaseMs)));
  timer.unref();
  tick();

  return {
    /** Runs a scan and a delivery round now (tests, and after settings change). */
    poke: tick,
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      await running?.catch(() => {});
      await Promise.allSettled([...inFlight]);
    },
  };
}

export type WebhookDispatcher = Awaited<ReturnType<typeof startWebhookDispatcher>>;
