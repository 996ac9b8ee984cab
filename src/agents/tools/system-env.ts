/** Set by `omoi worker` in a local sandbox with network: the egress proxy forwarded to 127.0.0.1. */
const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'no_proxy'];

/**
 * What a child of a runtime (the Claude Code CLI, a model-issued command) inherits from the worker:
 * PATH, HOME (the CLI keeps its session files there), LANG, TMPDIR and, in a local sandbox whose
 * project allows network, the egress proxy (HTTP_PROXY and friends), and nothing else. The worker's
 * token and model keys are left out on purpose (a local sandbox holds no token at all).
 *
 * Why this reads process.env: runtimes are built only by the worker entry point, whose whole
 * environment is already the sandbox contract; the entry points pass their own value in tests.
 *
 * @example
 * spawn('sh', ['-c', cmd], { env: { ...systemEnv(), EXTRA: '1' } });
 */
export function systemEnv(): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: process.env.LANG,
    TMPDIR: process.env.TMPDIR,
    ...Object.fromEntries(
      PROXY_VARIABLES.filter((name) => process.env[name]).map((name) => [name, process.env[name]]),
    ),
  };
}
