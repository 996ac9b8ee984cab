// The API as one local sandbox reaches it: an HTTP relay on a unix socket bound into the sandbox
// (at /run/omoi/api.sock), which forwards every request to the server's worker surface with the
// task's token in place of whatever credentials the request carried. The token therefore never
// enters the sandbox: no environment, file or process memory inside holds it, so the agent's
// commands have nothing to read in /proc/*/environ or /proc/*/mem, and nothing to take away.
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';

export interface ApiRelayOptions {
  /** The worker surface: a unix socket path, or an http:// URL whose host and port are used (paths pass as sent). */
  upstream: string;
  /** The task's worker token, added to every request as `Authorization: Bearer`. */
  token: string;
}

/** Headers that credentials travel in; the relay drops them and adds only the task's token. */
const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'proxy-authorization', 'cookie'];

/**
 * Creates the relay (call `listen(socketPath)`).
 *
 * @example
 * const relay = createApiRelay({ upstream: '<data>/run/worker.sock', token });
 * relay.listen('<sandbox>/run/api.sock');
 */
export function createApiRelay(options: ApiRelayOptions): Server {
  const target = options.upstream.startsWith('http')
    ? (() => {
        const url = new URL(options.upstream);
        return { host: url.hostname, port: Number(url.port || 80) };
      })()
    : { socketPath: options.upstream };
  return createServer((req, res) => {
    const headers: IncomingHttpHeaders = { ...req.headers };
    for (const name of CREDENTIAL_HEADERS) delete headers[name];
    headers.authorization = `Bearer ${options.token}`;
    const upstream = request({ ...target, method: req.method, path: req.url ?? '/', headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { code: 'UPSTREAM_UNAVAILABLE', message: `the Omoi API: ${error.message}` },
        }),
      );
    });
    req.pipe(upstream);
  });
}
