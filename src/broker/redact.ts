// A small local redaction: the project-wide one (src/base/redact.ts, registerSecret/redact) is being
// written at the same time; until it lands, the broker scrubs the secrets it handles itself from
// every message it lets out (git's stderr can echo a URL, a header or a key path).

/**
 * `text` with every occurrence of each secret (and its base64 and URL-encoded forms) replaced.
 *
 * @example
 * scrub('fatal: https://x:ghp_abc@host', ['ghp_abc']); // 'fatal: https://x:[redacted]@host'
 */
export function scrub(text: string, secrets: readonly (string | null | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]))
      out = out.split(form).join('[redacted]');
  }
  return out;
}
