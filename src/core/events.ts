// The append-only event log and its live fan-out. Every state change appends one event in the same
// transaction as the change. Appends take a transaction-scoped advisory lock before their id is
// drawn, so events commit in id order: a reader that has seen id N has seen every id below it,
// which is what lets SSE resume from Last-Event-ID with no gap and no duplicate. Lock, insert and
// NOTIFY are one statement (omoi_append_event, migration 0010), and an append of its own commits in
// that statement, so the lock every process's appends queue on is held for no client round trip.
//
// Fan-out: each append NOTIFYs `omoi_events` (the payload is the id) on commit; the one EventHub of
// a process LISTENs, reads every event after the last one it delivered, in id order, and hands them
// to its subscribers. Appends made in this process hand their event to the hub after commit, so it
// need not read back what it already has.

import { redactValue } from '../base/redact.js';
import { EVENTS_CHANNEL } from '../contracts/channels.js';
import type { AppendEvent, OmoiEvent } from '../contracts/events.js';
import { type Db, json, type Queryable, type Tx } from '../db/client.js';
import { plain } from './rows.js';

export { EVENTS_CHANNEL, TASKS_CHANNEL } from '../contracts/channels.js';

export type { AppendEvent, OmoiEvent } from '../contracts/events.js';

export interface EventFilter {
  project_id?: string;
  ticket_id?: string;
  task_id?: string;
}

const COLUMNS = 'id, type, ts, project_id, ticket_id, task_id, data';

export function matches(event: OmoiEvent, filter: EventFilter): boolean {
  return (
    (!filter.project_id || event.project_id === filter.project_id) &&
    (!filter.ticket_id || event.ticket_id === filter.ticket_id) &&
    (!filter.task_id || event.task_id === filter.task_id)
  );
}

function whereOf(filter: EventFilter, params: unknown[]): string {
  const parts: string[] = [];
  for (const key of ['project_id', 'ticket_id', 'task_id'] as const) {
    const value = filter[key];
    if (value) {
      params.push(value);
      parts.push(`${key} = $${params.length}`);
    }
  }
  return parts.length ? ` AND ${parts.join(' AND ')}` : '';
}

const encoder = new TextEncoder();

/** The Server-Sent Events frame of an event: its id, and its JSON on one data line. */
export function sseFrame(event: OmoiEvent): Uint8Array {
  return encoder.encode(`id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`);
}

/** A committed event with its SSE frame, encoded once for every subscriber. */
export interface Delivery {
  event: OmoiEvent;
  frame: Uint8Array;
}

/**
 * Delivers every committed event, in id order, to this process's subscribers: one LISTEN per
 * process, fanned out in memory. One per process (createServices makes it); `start()` subscribes
 * to NOTIFY, `stop()` unsubscribes. Events appended in this process are handed over at commit
 * (`publish`) and delivered without reading them back while their ids follow on; anything else (an
 * event of another process, an id skipped by a rolled-back append) is read from the table, in order.
 */
export class EventHub {
  private lastId = 0;
  private readonly subscribers = new Set<(batch: readonly Delivery[]) => void>();
  /** Events committed in this process and not delivered yet, by id. */
  private readonly local = new Map<number, OmoiEvent>();
  private running: Promise<void> | null = null;
  private again = false;
  private unlisten: (() => Promise<void>) | null = null;
  private stale = true;
  /** Set by a notification or the poll: something may be committed that this process did not publish. */
  private mustRead = false;
  private poll: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly db: Db,
    /** A slow poll for notifications lost while a PostgreSQL LISTEN connection was down. */
    private readonly pollMs = 5_000,
  ) {}

  async start(): Promise<void> {
    this.unlisten = await this.db.listen(EVENTS_CHANNEL, (payload) => this.notified(Number(payload)));
    this.poll = setInterval(() => this.read(), this.pollMs);
    this.poll.unref();
  }

  async stop(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    await this.unlisten?.();
    this.unlisten = null;
    await this.running?.catch(() => {});
  }

  /**
   * Adds a subscriber that receives every event committed after this call returns (possibly
   * some earlier ones too: callers dedupe by id), in batches, in id order. The returned function
   * unsubscribes.
   */
  async subscribe(handler: (batch: readonly Delivery[]) => void): Promise<() => void> {
    if (this.subscribers.size === 0 && this.stale) {
      // Nobody listened for a while: start from the newest event rather than reading the backlog.
      const rows = await this.db.query<{ max: number | null }>('SELECT max(id) AS max FROM events');
      this.lastId = Math.max(this.lastId, Number(rows[0]?.max ?? 0));
      this.stale = false;
    }
    this.subscribers.add(handler);
    return () => {
      this.subscribers.delete(handler);
    };
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** An event this process appended has committed. */
  publish(event: OmoiEvent): void {
    if (this.subscribers.size > 0 && event.id > this.lastId) this.local.set(event.id, event);
    this.poke();
  }

  /**
   * A NOTIFY: our own appends are published (see `publish`), others are read. Looked at once the
   * current turn is over: PGlite delivers the notification of our own append inside its statement,
   * before the append has returned and published its event.
   */
  private notified(id: number): void {
    setImmediate(() => {
      if (!(id <= this.lastId) && !this.local.has(id)) this.read();
    });
  }

  /** Reads and delivers whatever was committed since the last delivery. */
  read(): void {
    this.mustRead = true;
    this.poke();
  }

  /** Delivers what is due (coalesced with a delivery already under way). */
  private poke(): void {
    if (this.subscribers.size === 0) {
      this.stale = true;
      this.local.clear();
      this.mustRead = false;
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch(() => {
        // The database is briefly unreachable: the next notification or poll retries.
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  private async drain(): Promise<void> {
    for (;;) {
      this.deliverLocal();
      if (this.local.size === 0 && !this.mustRead) return;
      this.mustRead = false;
      const before = this.lastId;
      await this.readFromTable();
      if (this.lastId === before && !this.mustRead) return;
    }
  }

  /** Delivers the published events whose ids follow on from the last delivered one. */
  private deliverLocal(): void {
    const batch: Delivery[] = [];
    for (let next = this.local.get(this.lastId + 1); next; next = this.local.get(this.lastId + 1)) {
      this.local.delete(next.id);
      this.lastId = next.id;
      batch.push({ event: next, frame: sseFrame(next) });
    }
    this.deliver(batch);
  }

  private async readFromTable(): Promise<void> {
    for (;;) {
      const rows = await this.db.query<Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM events WHERE id > $1 ORDER BY id LIMIT 1000`,
        [this.lastId],
      );
      const batch: Delivery[] = [];
      for (const row of rows) {
        const event = plain<OmoiEvent>(row);
        this.lastId = event.id;
        batch.push({ event, frame: sseFrame(event) });
      }
      for (const id of this.local.keys()) if (id <= this.lastId) this.local.delete(id);
      this.deliver(batch);
      if (rows.length < 1000) return;
    }
  }

  private deliver(batch: readonly Delivery[]): void {
    if (batch.length === 0) return;
    for (const subscriber of this.subscribers) {
      try {
        subscriber(batch);
      } catch {
        // one broken subscriber must not starve the others
      }
    }
  }
}

/**
 * The events service.
 *
 * @example
 * await db.transaction(async (tx) => {
 *   await tx.query(`UPDATE tasks SET status = 'cancelled' WHERE id = $1`, [id]);
 *   await events.append({ type: 'task.cancelled', projectId, taskId: id }, tx);
 * });
 */
export function createEventsService(db: Db, hub: EventHub) {
  /** Locks, inserts and notifies in one statement (migration 0010): see the note there. */
  async function appendOn(q: Queryable, input: AppendEvent): Promise<OmoiEvent> {
    const rows = await q.query<Record<string, unknown>>(
      `SELECT ${COLUMNS} FROM omoi_append_event($1, $2, $3, $4, $5::jsonb)`,
      [
        input.type,
        input.projectId ?? null,
        input.ticketId ?? null,
        input.taskId ?? null,
        // No secret is ever stored in an event (a token a worker printed, a key in an error).
        json(redactValue(input.data ?? {})),
      ],
    );
    return plain<OmoiEvent>(rows[0]!);
  }

  async function appendIn(tx: Tx, input: AppendEvent): Promise<OmoiEvent> {
    const event = await appendOn(tx, input);
    tx.afterCommit(() => hub.publish(event));
    return event;
  }

  /** An append of its own: the statement is its transaction, committed when it returns. */
  async function appendAlone(input: AppendEvent): Promise<OmoiEvent> {
    const event = await appendOn(db, input);
    hub.publish(event);
    return event;
  }

  return {
    hub,

    /** Appends one event, in the caller's transaction when given one (else in its own). */
    append(input: AppendEvent, tx?: Tx): Promise<OmoiEvent> {
      return tx ? appendIn(tx, input) : appendAlone(input);
    },

    /** Appends several events in one transaction, in order. */
    appendMany(inputs: AppendEvent[], tx?: Tx): Promise<OmoiEvent[]> {
      const run = async (t: Tx) => {
        const out: OmoiEvent[] = [];
        for (const input of inputs) out.push(await appendIn(t, input));
        return out;
      };
      if (tx) return run(tx);
      if (inputs.length === 1) return appendAlone(inputs[0]!).then((event) => [event]);
      return db.transaction(run);
    },

    /** Events matching `filter` with id > `after`, oldest first. */
    async list(filter: EventFilter, after: number, limit: number, q: Queryable = db): Promise<OmoiEvent[]> {
      const params: unknown[] = [after];
      const where = whereOf(filter, params);
      params.push(limit);
      const rows = await q.query<Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM events WHERE id > $1${where} ORDER BY id LIMIT $${params.length}`,
        params,
      );
      return rows.map((r) => plain<OmoiEvent>(r));
    },

    /** The newest `limit` events matching `filter`, oldest first. */
    async latest(filter: EventFilter, limit: number, q: Queryable = db): Promise<OmoiEvent[]> {
      const params: unknown[] = [0];
      const where = whereOf(filter, params);
      params.push(limit);
      const rows = await q.query<Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM events WHERE id > $1${where} ORDER BY id DESC LIMIT $${params.length}`,
        params,
      );
      return rows.map((r) => plain<OmoiEvent>(r)).reverse();
    },
  };
}

export type EventsService = ReturnType<typeof createEventsService>;
