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
      // In a local sandbox the API and the way out are unix sockets: forward TCP on the sandbox's
      // own loopback to them, so every tool inside can use plain http://127.0.0.1 URLs.
      if (config.OMOI_SANDBOX_API_SOCKET || config.OMOI_SANDBOX_EGRESS_SOCKET) {
        const { startForwarder } = await import('../../worker/forwarder.js');
        if (config.OMOI_SANDBOX_API_SOCKET) {
          const api = await startForwarder(config.OMOI_SANDBOX_API_SOCKET);
          // Every URL the server pointed at itself (the API, the git broker, the model broker) now
          // goes through the forwarder.
          const { rebaseBrokerUrls } = await import('../../contracts/broker-urls.js');
          const before: Record<string, string> = {};
          for (const [name, value] of Object.entries(process.env))
            if (value !== undefined) before[name] = value;
          const rebased = rebaseBrokerUrls(before, config.OMOIOS_API_URL, api.url);
          for (const [name, value] of Object.entries(rebased))
            if (before[name] !== value) process.env[name] = value;
          config.OMOIOS_API_URL = api.url;
          process.env.OMOIOS_API_URL = api.url;
          config.REPO_URL = rebased.REPO_URL ?? config.REPO_URL;
          if (rebased.OPENAI_BASE_URL) config.OPENAI_BASE_URL = rebased.OPENAI_BASE_URL;
          if (rebased.ANTHROPIC_BASE_URL) config.ANTHROPIC_BASE_URL = rebased.ANTHROPIC_BASE_URL;
        }
        if (config.OMOI_SANDBOX_EGRESS_SOCKET) {
          const proxy = await startForwarder(config.OMOI_SANDBOX_EGRESS_SOCKET);
          // This entry point owns the environment; agent commands inherit these (systemEnv()).
          for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'])
            process.env[name] = proxy.url;
          for (const name of ['NO_PROXY', 'no_proxy']) process.env[name] = '127.0.0.1,localhost,::1';
        }
      }
      // Names only, never values: shows at a glance that nothing of the server's env came in.
      process.stdout.write(`environment: ${Object.keys(process.env).sort().join(' ')}\n`);
      const { createWorkerApiClient } = await import('../../worker/api-client.js');
      const { runWorker } = await import('../../worker/run.js');
      // Loaded while the local sandbox clones the workspace: wait for it before touching it.
      if (config.OMOI_WORKSPACE_GATE === 'stdin' && !(await workspaceReady(process.stdin))) {
        const error = 'the sandbox could not ready the workspace (see the sandbox log)';
        process.stdout.write(formatOutcomeLine({ ok: false, error }), () => process.exit(1));
        return;
      }
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
      // The outcome is final and every call it depended on was awaited: exit now rather than when
      // idle keep-alive sockets (model client, API client) time out, which held a finished worker,
      // and its sandbox, about 3 s longer.
      const code = result.ok ? 0 : 1;
      process.stdout.write(formatOutcomeLine(result), () => process.exit(code));
    });
}

/** True once the sandbox writes its "ready" line; false when stdin ends without it. */
export function workspaceReady(input: NodeJS.ReadableStream): Promise<boolean> {
  return new Promise((resolve) => {
    let seen = '';
    const done = (ready: boolean) => {
      input.pause();
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onEnd);
      resolve(ready);
    };
    const onData = (chunk: Buffer | string) => {
      seen += String(chunk);
      const newline = seen.indexOf('\n');
      if (newline >= 0) done(seen.slice(0, newline).trim() === 'ready');
    };
    const onEnd = () => done(seen.trim() === 'ready');
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onEnd);
  });
}
