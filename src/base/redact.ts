// Secret values never reach an event, a log line, a stored error or a printed message. Two nets:
// the shapes of Omoi's own secrets (API keys, worker tokens, session secrets) are recognised by
// their prefix wherever they appear, and every other secret value this process learns (a model
// key, a project credential, OMOI_API_KEY) is registered once and replaced by exact match.
//
// Used by the events service before an event is stored, by the server's logger, by the API's
// error responses and by the orchestrator before a task's error is stored.

/** What a secret is replaced by. */
export const REDACTED = '[REDACTED]';

/** Omoi's own secrets: `omoi_sk_…` (API key), `omoi_wt_…` (worker token), `omoi_ss_…` (session). */
const OWN_SECRET = /omoi_(?:sk|wt|ss)_[A-Za-z0-9_-]{8,}/g;

/** Values shorter than this are not registered: redacting "abc" everywhere would destroy text. */
const MIN_SECRET_LENGTH = 8;
/** The registry is bounded: the oldest values go first (a token of a long-finished task). */
const MAX_SECRETS = 10_000;

const secrets = new Set<string>();
let longestFirst: string[] | null = null;

/**
 * Adds a secret value: from now on `redact` replaces it wherever it appears.
 *
 * @example
 * registerSecret(process.env.ANTHROPIC_API_KEY);
 * redact(`calling with ${process.env.ANTHROPIC_API_KEY}`); // 'calling with [REDACTED]'
 */
export function registerSecret(value: string | null | undefined): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  if (secrets.size > MAX_SECRETS) {
    const oldest = secrets.values().next().value;
    if (oldest !== undefined) secrets.delete(oldest);
  }
  longestFirst = null;
}

/** Forgets a secret value (tests; a deleted credential). */
export function unregisterSecret(value: string): void {
  if (secrets.delete(value)) longestFirst = null;
}

/**
 * The text with every known secret replaced by `[REDACTED]`.
 *
 * @example
 * redact('token omoi_wt_abcdefghijkl leaked'); // 'token [REDACTED] leaked'
 */
export function redact(text: string): string {
  if (typeof text !== 'string' || text.length === 0) return text;
  let out = text.replace(OWN_SECRET, REDACTED);
  if (secrets.size === 0) return out;
  longestFirst ??= [...secrets].sort((a, b) => b.length - a.length);
  for (const secret of longestFirst) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * A deep copy of a JSON-like value with every string (keys included) redacted. Values that are
 * not plain data (dates, buffers) are kept as they are.
 *
 * @example
 * redactValue({ env: { OMOIOS_API_KEY: 'omoi_wt_abcdefghijkl' } }); // { env: { OMOIOS_API_KEY: '[REDACTED]' } }
 */
export function redactValue<T>(value: T): T {
  return walk(value, 0) as T;
}

function walk(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object' || depth > 200) return value;
  if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)
    return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[redact(k)] = walk(v, depth + 1);
  return out;
}

/** Variable names whose values are secrets: model keys, tokens, passwords. */
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|CREDENTIALS?)$/i;

/**
 * Registers the value of every variable whose name says it is a secret (ANTHROPIC_API_KEY,
 * GITHUB_TOKEN, …): the entry point calls it once with its environment.
 *
 * @example
 * registerSecretsFromEnv(process.env);
 */
export function registerSecretsFromEnv(env: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(env)) if (SECRET_NAME.test(name)) registerSecret(value);
}
