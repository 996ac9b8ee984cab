// `omoi worker`: the in-sandbox worker. It reads only the sandbox env contract (docs/design.md) and
// talks to the API over HTTP with its scoped token; it never opens the database.
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('worker')
    .description(
      'Run one task inside a sandbox (reads OMOIOS_API_URL, OMOIOS_API_KEY, TASK_ID, … from the env)',
    )
    .action(async () => {
      const { parseWorkerEnv } = await import('../../contracts/worker-env.js');
      const { formatOutcomeLine } = await import('../../contracts/worker-outcome.js');
      const parsed = parseWorkerEnv(process.env);
      if (!parsed.ok) {
        process.stderr.write(`omoi worker: ${parsed.error}\n`);
        process.stdout.write(formatOutcomeLine({ ok: false, error: parsed.error }));
        process.exitCode = 1;
        return;
      }
      const config = parsed.config;
      // Names only, never values: shows at a glance that nothing of the server's env came in.
      process.stdout.write(`environment: ${Object.keys(process.env).sort().join(' ')}\n`);
      const { createWorkerApiClient } = await import('../../worker/api-client.js');
      const { runWorker } = await import('../../worker/run.js');
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      const result = await runWorker(config, {
        api: createWorkerApiClient({ baseUrl: config.OMOIOS_API_URL, token: config.OMOIOS_API_KEY }),
        cwd: process.cwd(),
        log: (line) => process.stdout.write(`${line}\n`),
        signal: controller.signal,
      });
      process.stdout.write(formatOutcomeLine(result));
      process.exitCode = result.ok ? 0 : 1;
    });
}
