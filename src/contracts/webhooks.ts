// Outgoing webhooks: the event names a receiver sees and the headers it gets, defined once. The
// server maps its own event catalogue (events.ts) onto these names in src/notify/events.ts; the
// README and docs/design.md list the mapping.
//
// The mapping is here, not in src/notify, because the web UI's browser notifications use it too.
//
// @example
// // a receiver: verify `Omoi-Signature: t=<unix seconds>,v1=<hex>` = HMAC-SHA256(secret, `${t}.${body}`)

import type { OmoiEvent } from './events.js';

/** What a webhook can subscribe to (`events` omitted: all of them). */
export const WEBHOOK_EVENTS = [
  /** A person is needed: a spec waits for approval, or an agent asks a question. */
  'ticket.needs_input',
  /** A ticket reached done. */
  'ticket.done',
  /** A task failed for good (no attempt left). */
  'task.failed',
  /** The ticket's pull request was opened or updated. */
  'pr.opened',
  /** A budget passed its soft threshold (event `budget.threshold`). */
  'budget.threshold',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The body's shape: Omoi's JSON, or Slack's incoming-webhook `{text}`. */
export const WEBHOOK_FORMATS = ['json', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'sending', 'delivered', 'failed'] as const;

/** The headers of every delivery. */
export const WEBHOOK_HEADERS = {
  /** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the webhook's secret>` */
  signature: 'omoi-signature',
  /** The webhook event name. */
  event: 'omoi-event',
  /** The delivery id: the same on every retry of one delivery (receivers dedupe by it). */
  delivery: 'omoi-delivery',
} as const;

/** The JSON body (format `json`). */
export interface WebhookPayload {
  /** The delivery id (also in Omoi-Delivery). */
  id: string;
  event: WebhookEvent;
  /** When the Omoi event happened. */
  occurred_at: string;
  /** The Omoi event behind it (its id in GET /api/v1/events, its type in the catalogue). */
  omoi_event: { id: number; type: string };
  project: { id: string; name: string };
  ticket: { id: string; ref: string; title: string; status: string } | null;
  task: { id: string; title: string } | null;
  /** A line a person can read. */
  summary: string;
  /** The Omoi event's data. */
  data: Record<string, unknown>;
}

/** The webhook event an Omoi event is, or null when no webhook hears it. */
export function webhookEventOf(event: Pick<OmoiEvent, 'type' | 'data'>): WebhookEvent | null {
  switch (event.type) {
    case 'ticket.status_changed': {
      const to = (event.data as { to?: string }).to;
      return to === 'done' ? 'ticket.done' : to === 'awaiting_approval' ? 'ticket.needs_input' : null;
    }
    case 'task.failed':
      return 'task.failed';
    case 'pr.opened':
      return 'pr.opened';
    case 'budget.threshold':
      return 'budget.threshold';
    case 'agent.question':
      return 'ticket.needs_input';
    default:
      return null;
  }
}

/** The Omoi event types webhookEventOf may map (the dispatcher reads only these). */
export const WATCHED_TYPES = [
  'ticket.status_changed',
  'task.failed',
  'pr.opened',
  'budget.threshold',
  'agent.question',
] as const;
