// Inside a local sandbox the only ways out are unix sockets under /run/omoi (the API relay and the
// egress proxy). Tools speak TCP, so the worker listens on 127.0.0.1 of the sandbox's own network
// namespace and copies each connection to the socket, byte for byte: git, the model SDKs, npm and
// pip then work with an ordinary http://127.0.0.1:<port> URL.
import { connect, createServer, type Server } from 'node:net';

export interface Forwarder {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts forwarding 127.0.0.1:<port> (0 picks a free one) to a unix socket.
 *
 * @example
 * const api = await startForwarder('/run/omoi/api.sock');
 * process.env.OMOIOS_API_URL = api.url;
 */
export async function startForwarder(socketPath: string, port = 0): Promise<Forwarder> {
  const server: Server = createServer((client) => {
    const upstream = connect(socketPath);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  // The worker must still exit when its job is done, whatever the forwarder holds.
  server.unref();
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
