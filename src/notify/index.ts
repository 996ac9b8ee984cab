// Outgoing webhooks: settings (settings.ts), targets (targets.ts), signing (signature.ts), the
// mapping from Omoi's events (events.ts), the dispatcher (dispatcher.ts) and the log (deliveries.ts).
import type { ServerConfig, WebhookConfig } from '../core/config.js';

export { startWebhookDispatcher, type WebhookDispatcher } from './dispatcher.js';

/** The server's webhook settings, with the defaults of the environment table when absent. */
export function webhookConfigOf(config: Pick<ServerConfig, 'webhooks'>): WebhookConfig {
  return config.webhooks ?? { allowPrivate: false, maxAttempts: 5, retryBaseMs: 5_000 };
}
