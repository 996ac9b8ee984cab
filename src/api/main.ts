// Listening: the API app on a Node HTTP server. Used by `omoi start`, tests and benchmarks.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { AppError } from '../base/errors.js';
import type { ServerConfig } from '../core/config.js';
import { createServices, type Services } from '../core/services.js';
import { openDatabase } from '../db/client.js';
import { startWebhookDispatcher, webhookConfigOf } from '../notify/index.js';
import { createApp } from './app.js';

export { DEFAULT_WEB_DIR } from './web-dir.js';

export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  /** Stops accepting, ends open streams, and (when it opened them) stops the services and closes the database. */
  close(): Promise<void>;
}

export interface StartServerOptions {
  /** Services over an open database; when absent the server opens (and on close, closes) its own. */
  services?: Services;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

/**
 * Serves the API (and the web UI when built). Refuses to listen on a non-loopback address when no
 * API key exists, because every request there must carry one.
 *
 * @example
 * const server = await startServer(loadServerConfig(process.env));
 * console.log(server.url); // http://127.0.0.1:7878
 * await server.close();
 */
export async function startServer(
  config: ServerConfig,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  let services = options.services;
  let ownDb: Awaited<ReturnType<typeof openDatabase>> | null = null;
  if (!services) {
    ownDb = await openDatabase(
      config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
    );
    services = await createServices(ownDb, {
      ...(config.apiKey ? { envApiKey: config.apiKey } : {}),
      secretKey: config.secretKey,
      dataDir: config.dataDir,
    });
  }
  const cleanupOwn = async () => {
    if (!ownDb) return;
    await services!.stop();
    await ownDb.close();
  };
  try {
    if ((config.requireAuth || config.requireKey) && !(await services.keys.anyKey()))
      throw new AppError(
        'CONFIG_INVALID',
        `refusing to serve on ${config.host} without an API key: every request there must carry one. ` +
          'Create one with `omoi key create` (or set OMOI_API_KEY), or bind 127.0.0.1.',
      );
  } catch (error) {
    await cleanupOwn();
    throw error;
  }
  const app = createApp({ services, config, ...(options.log ? { log: options.log } : {}) });
  // Webhooks leave from the process that serves the API (every server of a shared PostgreSQL runs
  // one; they share the delivery rows).
  const dispatcher = await startWebhookDispatcher({
    db: services.db,
    hub: services.events.hub,
    sealer: services.credentials,
    ...webhookConfigOf(config),
    ...(options.log ? { log: options.log } : {}),
  });
  let server: Server;
  const info = await new Promise<AddressInfo>((resolve, reject) => {
    server = serve(
      {
        fetch: app.fetch,
        port: config.port,
        hostname: config.host,
        // A client that trickles its headers or body is cut off (checked every second).
        serverOptions: {
          headersTimeout: config.headersTimeoutMs,
          requestTimeout: config.requestTimeoutMs,
          connectionsCheckingInterval: 1_000,
        },
      },
      resolve,
    ) as Server;
    server.once('error', reject);
  }).catch(async (error: NodeJS.ErrnoException) => {
    await dispatcher.stop();
    await cleanupOwn();
    if (error.code === 'EADDRINUSE')
      throw new AppError('CONFIG_INVALID', `port ${config.port} on ${config.host} is in use (try --port)`);
    throw error;
  });
  const host = info.address.includes(':') ? `[${info.address}]` : info.address;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${info.port}`,
    port: info.port,
    services,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // SSE streams never end by themselves: drop every connection so close() returns.
          server.closeAllConnections();
        });
        await dispatcher.stop();
        await cleanupOwn();
      })();
      return closing;
    },
  };
}
