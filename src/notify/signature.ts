// The signature of a delivery: HMAC-SHA256 over `${timestamp}.${body}` with the webhook's secret,
// sent as `Omoi-Signature: t=<unix seconds>,v1=<hex>`. The timestamp inside the signed text lets a
// receiver refuse a replay older than its tolerance.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signatureHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The Omoi-Signature header value. */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${signatureHex(secret, timestamp, body)}`;
}

/**
 * Checks a received delivery (what a receiver does; the tests' receiver uses it).
 *
 * @example
 * verifySignature(req.headers['omoi-signature'], secret, rawBody, { toleranceSec: 300 }); // true | false
 */
export function verifySignature(
  header: string | undefined,
  secret: string,
  body: string,
  options: { toleranceSec?: number; now?: number } = {},
): boolean {
  if (!header) return false;
  const parts = new Map(
    header.split(',').map((p) => {
      const at = p.indexOf('=');
      return [p.slice(0, at).trim(), p.slice(at + 1).trim()] as const;
    }),
  );
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSec ?? 300)) return false;
  return timingSafeEqual(Buffer.from(v1, 'hex'), Buffer.from(signatureHex(secret, t, body), 'hex'));
}
