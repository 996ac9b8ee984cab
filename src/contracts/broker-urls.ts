// What a sandbox is given instead of the project's remote and the model key: broker URLs on the
// API it already talks to, and its task token as the only "key".

/** Where the server serves a project's repository to its sandboxes (git smart HTTP). */
export const GIT_BROKER_PATH = '/api/v1/git';

/** Where the server passes model calls through, per API flavour. */
export const MODEL_BROKER_PATH = {
  openai: '/api/v1/model/openai',
  anthropic: '/api/v1/model/anthropic',
} as const;

/**
 * The broker URL a sandbox clones and pushes (REPO_URL).
 *
 * @example
 * brokerRepoUrl('http://127.0.0.1:7878', projectId); // 'http://127.0.0.1:7878/api/v1/git/<id>.git'
 */
export function brokerRepoUrl(apiUrl: string, projectId: string): string {
  return `${apiUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '')}${GIT_BROKER_PATH}/${projectId}.git`;
}

/**
 * The model variables of runtime `name` in a sandbox: the broker's pass-through as the base URL
 * and the task token as the key. Runtimes without a model get nothing.
 *
 * @example
 * brokeredModelEnv('claude', 'http://127.0.0.1:7878', token);
 * // { ANTHROPIC_BASE_URL: 'http://127.0.0.1:7878/api/v1/model/anthropic', ANTHROPIC_API_KEY: token }
 */
export function brokeredModelEnv(name: string, apiUrl: string, token: string): Record<string, string> {
  const base = apiUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  if (name === 'claude')
    return { ANTHROPIC_BASE_URL: `${base}${MODEL_BROKER_PATH.anthropic}`, ANTHROPIC_API_KEY: token };
  if (name === 'openai')
    return { OPENAI_BASE_URL: `${base}${MODEL_BROKER_PATH.openai}`, OPENAI_API_KEY: token };
  return {};
}

/** The env variables that carry a broker URL (rewritten together when the API address changes). */
export const BROKER_URL_VARIABLES = [
  'OMOIOS_API_URL',
  'REPO_URL',
  'OPENAI_BASE_URL',
  'ANTHROPIC_BASE_URL',
] as const;

/**
 * `env` with every broker URL moved from `from` to `to`: for a sandbox that reaches the API at
 * another address (the local sandbox's in-namespace forwarder).
 *
 * @example
 * rebaseBrokerUrls(env, 'http://127.0.0.1:7878', 'http://127.0.0.1:41000');
 */
export function rebaseBrokerUrls(
  env: Record<string, string>,
  from: string,
  to: string,
): Record<string, string> {
  const a = from.replace(/\/+$/, '');
  const b = to.replace(/\/+$/, '');
  const out = { ...env };
  for (const name of BROKER_URL_VARIABLES) {
    const value = out[name];
    if (value && (value === a || value.startsWith(`${a}/`))) out[name] = b + value.slice(a.length);
  }
  return out;
}
