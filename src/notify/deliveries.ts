// The delivery log as routes show it: where each delivery stands, never its secret (the body is not
// shown either: it is what the receiver got, and the receiver has it).
import type { WebhookDelivery } from '../contracts/api.js';
import { plain } from '../core/rows.js';
import type { Queryable } from '../db/client.js';

export async function listDeliveries(
  q: Queryable,
  projectId: string,
  filter: { status?: WebhookDelivery['status'] | undefined; limit?: number | undefined } = {},
): Promise<WebhookDelivery[]> {
  const params: unknown[] = [projectId];
  let where = 'project_id = $1';
  if (filter.status) {
    params.push(filter.status);
    where += ` AND status = $${params.length}`;
  }
  params.push(filter.limit ?? 100);
  const rows = await q.query<Record<string, unknown>>(
    `SELECT id::text AS id, webhook_id, event, event_id, url, status, attempts, response_code, error,
            CASE WHEN status IN ('pending', 'sending') THEN next_attempt_at END AS next_attempt_at,
            created_at, delivered_at
       FROM webhook_deliveries WHERE ${where} ORDER BY created_at DESC, id LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => {
    const row = plain<WebhookDelivery>(r);
    return { ...row, event_id: Number(row.event_id) };
  });
}
