/**
 * What a child of a runtime (the Claude Code CLI, a model-issued command) inherits from the worker:
 * PATH, HOME (the CLI keeps its session files there), LANG and TMPDIR, and nothing else. The
 * worker's token and model keys are left out on purpose.
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
  };
}
