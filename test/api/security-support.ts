// The security suites talk to the real server over a real socket, with node:http so that they can
// send any Host, Origin or forwarded-for header (fetch refuses to set Host).
import { request as httpRequest } from 'node:http';
import { type RunningServer, startServer } from '../../src/api/main.js';
import { loadServerConfig, type ServerConfig } from '../../src/core/config.js';
import { createServices, type Services } from '../../src/core/services.js';
import type { Db } from '../../src/db/client.js';

export interface RawResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: asserted field by field
  body: any;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface RealServer {
  server: RunningServer;
  services: Services;
  config: ServerConfig;
  port: number;
  /** One request with exactly these headers (Host defaults to 127.0.0.1:<port>). */
  send(
    method: string,
    path: string,
    options?: { headers?: Record<string, string>; body?: string | Buffer; json?: unknown },
  ): Promise<RawResponse>;
  close(): Promise<void>;
}

/** Starts the real server on 127.0.0.1 (port 0) over `db`, with `env` as its environment. */
export async function startReal(db: Db, env: Record<string, string> = {}): Promise<RealServer> {
  const services = await createServices(db, {
    eventPollMs: 500,
    ...(env.OMOI_API_KEY ? { envApiKey: env.OMOI_API_KEY } : {}),
  });
  const config = loadServerConfig({ OMOI_PORT: '0', ...env }, { webDir: null });
  const server = await startServer(config, { services });
  const send: RealServer['send'] = (method, path, options = {}) =>
    new Promise((resolve, reject) => {
      const body =
        options.json !== undefined
          ? Buffer.from(JSON.stringify(options.json))
          : options.body !== undefined
            ? Buffer.from(options.body)
            : null;
      const headers: Record<string, string> = {
        host: `127.0.0.1:${server.port}`,
        ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(body ? { 'content-length': String(body.length) } : {}),
        ...options.headers,
      };
      const req = httpRequest(
        { host: '127.0.0.1', port: server.port, method, path, headers, setHost: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : null;
            } catch {
              // not JSON
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, text, headers: res.headers });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    });
  return {
    server,
    services,
    config,
    port: server.port,
    send,
    async close() {
      await server.close();
      await services.stop();
    },
  };
}
