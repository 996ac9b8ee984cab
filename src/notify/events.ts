// The body a webhook gets. Which Omoi events it hears, under which name (contracts/webhooks.ts,
// also in docs/design.md, "Webhooks"):
//   ticket.status_changed to awaiting_approval  -> ticket.needs_input (a spec waits for a person)
//   agent.question (the question inbox)         -> ticket.needs_input (an agent asks)
//   ticket.status_changed to done               -> ticket.done
//   task.failed                                 -> task.failed
//   pr.opened                                   -> pr.opened
//   budget.threshold (src/core/budgets.ts)      -> budget.threshold
import type { OmoiEvent } from '../contracts/events.js';
import type { WebhookEvent, WebhookFormat, WebhookPayload } from '../contracts/webhooks.js';

export { WATCHED_TYPES, webhookEventOf } from '../contracts/webhooks.js';

export interface PayloadContext {
  deliveryId: string;
  event: OmoiEvent;
  webhookEvent: WebhookEvent;
  project: { id: string; name: string };
  ticket: WebhookPayload['ticket'];
  task: WebhookPayload['task'];
}

/** What a person is needed for: an agent's question, or a spec waiting for approval. */
function needsWhat(type: string, data: Record<string, unknown>): string {
  if (type === 'agent.question') return `an agent asks: ${String(data.question ?? '').slice(0, 300)}`;
  return 'needs you (the spec waits for approval)';
}

/** A line a person reads in a chat channel. */
export function summaryOf(context: Omit<PayloadContext, 'deliveryId'>): string {
  const { webhookEvent, event, ticket, task, project } = context;
  const where = ticket ? `${ticket.ref} ${ticket.title}` : `project ${project.name}`;
  const data = event.data as Record<string, unknown>;
  switch (webhookEvent) {
    case 'ticket.done':
      return `${where}: done`;
    case 'ticket.needs_input':
      return `${where}: ${needsWhat(event.type, data)}`;
    case 'task.failed':
      return `${where}: task "${task?.title ?? event.task_id}" failed: ${String(data.error ?? 'unknown error').slice(0, 300)}`;
    case 'pr.opened':
      return `${where}: pull request ${data.updated ? 'updated' : 'opened'} ${String(data.url ?? '')}`;
    case 'budget.threshold': {
      const spent = Number(data.spent ?? 0);
      const cap = Number(data.cap ?? 0);
      const share =
        cap > 0
          ? ` (${Math.round((spent / cap) * 100)}% of the ${String(data.scope)} ${String(data.unit)} cap)`
          : '';
      return `${where}: budget threshold reached${share}`;
    }
  }
}

/** The body a webhook of `format` receives. */
export function payloadBody(format: WebhookFormat, context: PayloadContext): string {
  const summary = summaryOf(context);
  if (format === 'slack') return JSON.stringify({ text: `[Omoi] ${summary}` });
  const payload: WebhookPayload = {
    id: context.deliveryId,
    event: context.webhookEvent,
    occurred_at: new Date(context.event.ts).toISOString(),
    omoi_event: { id: context.event.id, type: context.event.type },
    project: context.project,
    ticket: context.ticket,
    task: context.task,
    summary,
    data: context.event.data as Record<string, unknown>,
  };
  return JSON.stringify(payload);
}
