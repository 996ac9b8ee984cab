// `omoi start`: parse the environment once → open the database → services → HTTP server (API + web
// UI) → [orchestrator, with the sandbox provider and agent runtime chosen here] → wait for
// SIGINT/SIGTERM, then close in reverse order (which releases the data folder's lock).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { packageRoot } from '../../base/package-root.js';
import { usageError } from '../output.js';

/** The `bin/omoi.js` of this installation (local workers run it). */
const OMOI_BIN = (() => {
  const root = packageRoot(import.meta.url);
  return root
    ? join(root, 'bin', 'omoi.js')
    : fileURLToPath(new URL('../../../bin/omoi.js', import.meta.url));
})();

const USAGE = 'omoi start [--port 7878] [--data DIR] [--host 127.0.0.1] [--no-web] [--json]';

interface StartFlags {
  port?: string;
  data?: string;
  host?: string;
  web: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('start')
    .description('Serve the API and the web UI (embedded database in --data unless DATABASE_URL is set)')
    .option('--port <port>', 'port to listen on (default 7878, env OMOI_PORT; 0 picks a free one)')
    .option('--data <dir>', 'data folder for the embedded database (default ./.omoi, env OMOI_DATA_DIR)')
    .option('--host <address>', 'address to bind (default 127.0.0.1; any other needs an API key)')
    .option('--no-web', 'do not serve the web UI')
    .option('--json', 'print the listening address as one JSON line')
    .action(async (flags: StartFlags) => {
      const port = flags.port === undefined ? undefined : Number(flags.port);
      if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
        return usageError(`--port must be a port number (got ${flags.port})`, USAGE);

      const [
        { parseEnv, serverConfigFrom, serverEnvSchema },
        { DEFAULT_WEB_DIR },
        { workerSurfaceEnvSchema },
        { orchestratorEnvSchema },
      ] = await Promise.all([
        import('../../core/config.js'),
        import('../../api/web-dir.js'),
        import('../../api/worker-surface-env.js'),
        import('../../orchestrator/config.js'),
      ]);
      const { resolve } = await import('node:path');

      // The environment, parsed once with the variables of every part this process runs; each
      // part gets its parsed values (a bad variable is reported with all the others, before anything starts).
      const env = parseEnv(
        serverEnvSchema.extend(workerSurfaceEnvSchema.shape).extend(orchestratorEnvSchema.shape),
        process.env,
      );
      const config = serverConfigFrom(
        env,
        {
          ...(port === undefined ? {} : { port }),
          ...(flags.data ? { dataDir: flags.data } : {}),
          ...(flags.host ? { host: flags.host } : {}),
          ...(flags.web ? {} : { webDir: null }),
        },
        DEFAULT_WEB_DIR,
      );
      const { redact, registerSecretsFromEnv } = await import('../../base/redact.js');
      // Every secret of this environment (model keys, OMOI_API_KEY) is kept out of the log.
      registerSecretsFromEnv(process.env);
      const log = (message: string, fields?: Record<string, unknown>) =>
        process.stderr.write(redact(`${message}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`));
      if (config.runtimeUnavailable)
        log(
          `warning: ${config.runtimeUnavailable}. Until then, creating a ticket answers 422 RUNTIME_UNAVAILABLE.`,
        );

      // 0. the port, before anything is created: a port in use names its holder and leaves no data folder
      const { assertPortFree } = await import('../port-check.js');
      await assertPortFree(config.host, config.port);
      const { existsSync, rmSync } = await import('node:fs');
      const createdData = !config.databaseUrl && !existsSync(resolve(config.dataDir));

      // 1. the database (migrated; PGlite takes the data folder's lock), opened while the rest of
      //    the server's modules load. The embedded database's WebAssembly runs on V8's baseline tier
      //    unless OMOI_PGLITE_OPTIMIZE=1: its optimising tier blocked the start for 150-600 ms and
      //    held ~80 MB (profile in bench/api-startup.bench.js); set before PGlite compiles its module.
      if (!config.databaseUrl && !env.OMOI_PGLITE_OPTIMIZE)
        (await import('node:v8')).setFlagsFromString('--liftoff-only');
      const { openDatabase } = await import('../../db/client.js');
      const opening = openDatabase(
        config.databaseUrl ? { url: config.databaseUrl } : { dataDir: resolve(config.dataDir) },
      );
      const [
        db,
        { createServices },
        { startServer },
        { createWorkerSurface, startWorkerSurface },
        { startServerOrchestrator },
      ] = await Promise.all([
        opening,
        import('../../core/services.js'),
        import('../../api/main.js'),
        import('../../api/worker-surface.js'),
        import('../../orchestrator/index.js'),
      ]).catch(async (error) => {
        // a module that failed to load must not leave the database open (it holds the data lock)
        await opening.then((open) => open.close()).catch(() => {});
        throw error;
      });
      // 2. the services
      const services = await createServices(db, {
        ...(config.apiKey ? { envApiKey: config.apiKey } : {}),
        secretKey: config.secretKey,
        dataDir: resolve(config.dataDir),
      });
      const closers: Array<() => Promise<unknown>> = [() => db.close(), () => services.stop()];
      const shutdown = async () => {
        for (const close of closers.reverse())
          await close().catch((e) => log(`while stopping: ${String(e)}`));
      };
      try {
        // 3. the HTTP server
        const server = await startServer(config, { services, log });
        closers.push(() => server.close());
        // 3b. the worker-only surface: task tokens only, on <data>/run/worker.sock (local sandboxes'
        //     relays) and OMOI_WORKER_PORT when set (remote sandboxes). Worker routes of other parts
        //     (the git broker, the model pass-through) go into `mounts`.
        const { brokerRoutes, createApp } = await import('../../api/app.js');
        const surface = await startWorkerSurface(
          createWorkerSurface({
            api: createApp({ services, config, log }),
            keys: services.keys,
            // The brokers check the task token themselves (a running task's, its own project only).
            mounts: [{ path: '/', app: brokerRoutes({ services, config, log }) as never }],
            log,
          }),
          { dataDir: config.dataDir, port: env.OMOI_WORKER_PORT, host: config.host },
        );
        closers.push(() => surface.close());
        // 4. the orchestrator, after the server (workers call its URL); stopped first on shutdown,
        //    handing running tasks back. OMOI_ORCHESTRATOR=false leaves the work to other processes.
        if (env.OMOI_ORCHESTRATOR) {
          // Git and model calls of every sandbox go through this server's brokers (src/broker/):
          // the remote is fetched into the server's mirror, the sandbox gets broker URLs and its token.
          const { createMirrors } = await import('../../broker/mirrors.js');
          const { brokeredModelEnv, brokerRepoUrl } = await import('../../contracts/broker-urls.js');
          const apiUrl = config.publicUrl ?? server.url.replace('://0.0.0.0:', '://127.0.0.1:');
          const mirrors = createMirrors({
            dataDir: resolve(config.dataDir),
            credential: (id) => services.credentials.reveal(id),
          });
          // The entry point chooses the sandbox provider and the agent runtime; the orchestrator
          // runs what it is handed.
          const { createProvider } = await import('../../sandbox/registry.js');
          const { chooseRuntimeName } = await import('../../contracts/runtime-env.js');
          const provider = await createProvider(env.OMOI_SANDBOX, {
            dataDir: resolve(config.dataDir),
            omoiBin: OMOI_BIN,
            path: process.env.PATH ?? '',
            keepOnFailure: env.OMOI_KEEP_FAILED_WORKSPACES,
            isolation: env.OMOI_SANDBOX_ISOLATION,
            workerApi: surface.socketPath,
            settings: process.env,
            log,
          });
          const { serverBudgets } = await import('../../core/budgets.js');
          const budgets = serverBudgets(db, config, services.events);
          const orchestrator = await startServerOrchestrator({
            prepareRepo: async ({ taskId, projectId, repoUrl, defaultBranch }) => ({
              cloneFrom: await mirrors.fetch(projectId, repoUrl, defaultBranch, taskId),
              repoUrl: brokerRepoUrl(apiUrl, projectId),
            }),
            modelEnv: (runtimeName, token) => brokeredModelEnv(runtimeName, apiUrl, token),
            // Past a soft threshold the person decides (a budget question in the inbox).
            budget: async (task) => {
              const checked = await budgets.beforeStart(task);
              if (checked.ok || !('ask' in checked)) return checked;
              const { key, question } = checked.ask;
              await services.questions.ask(
                task.id,
                { question, options: ['Continue', 'Stop'] },
                'budget',
                key,
              );
              return { ok: false, parked: true };
            },
            db,
            services,
            env,
            apiUrl,
            provider,
            runtimeName: chooseRuntimeName({ explicit: env.AGENT_RUNTIME, env }),
            providerSettings: process.env,
            log,
          });
          closers.push(() => orchestrator.stop());
        }

        const where = config.databaseUrl
          ? 'PostgreSQL (DATABASE_URL)'
          : `embedded database in ${resolve(config.dataDir)}`;
        if (flags.json) process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port })}\n`);
        else process.stdout.write(`Omoi is listening on ${server.url} (${where})\n`);
      } catch (error) {
        await shutdown();
        // a start that failed leaves nothing behind: the data folder it created goes too
        if (createdData) rmSync(resolve(config.dataDir), { recursive: true, force: true });
        throw error;
      }

      // 5. wait for a signal, then stop everything and release the lock
      await new Promise<void>((done) => {
        const stop = (signal: string) => {
          log(`${signal}: stopping`);
          void shutdown().then(done);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
