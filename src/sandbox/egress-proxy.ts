// The way out of a local sandbox: an HTTP proxy (CONNECT for HTTPS, absolute URIs for plain HTTP)
// the server runs per sandbox on a unix socket bound into it. The project's `settings.network`
// decides which hosts it reaches: `registries` (package registries only, the default), `open`
// (any host) or `none` (no proxy at all). Whatever the policy, a host is resolved here and refused
// when any of its addresses is loopback, link-local, private or otherwise not public, so a name
// pointing at 127.0.0.1 or the cloud metadata address is refused like the address itself; the
// connection then goes to the address that was checked, not to a second lookup.
import { lookup as dnsLookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isNonPublicAddress } from '../base/addresses.js';

export type NetworkPolicy = 'none' | 'registries' | 'open';

/**
 * Package registries reachable under `registries`: npm, Yarn, PyPI, crates.io, the Go module proxy,
 * RubyGems, Maven Central and Gradle, Debian and Ubuntu archives, Alpine. A leading `.` matches any
 * subdomain. OMOI_SANDBOX_ALLOW_HOSTS adds to it.
 */
export const REGISTRY_HOSTS: readonly string[] = [
  'registry.npmjs.org',
  'registry.yarnpkg.com',
  'repo.yarnpkg.com',
  'pypi.org',
  'files.pythonhosted.org',
  'crates.io',
  'index.crates.io',
  'static.crates.io',
  'static.rust-lang.org',
  'proxy.golang.org',
  'sum.golang.org',
  'index.golang.org',
  'rubygems.org',
  'index.rubygems.org',
  'repo.maven.apache.org',
  'repo1.maven.org',
  'plugins.gradle.org',
  'services.gradle.org',
  'deb.debian.org',
  'security.debian.org',
  'archive.ubuntu.com',
  'security.ubuntu.com',
  'dl-cdn.alpinelinux.org',
];

/** True when a sandbox may not connect to this address. */
export const isForbiddenAddress = isNonPublicAddress;

/** Whether `host` is on the list (exact, or a subdomain of an entry starting with `.`). */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return allowed.some((entry) => {
    const e = entry.toLowerCase().trim();
    if (!e) return false;
    if (e.startsWith('.')) return name.endsWith(e) || name === e.slice(1);
    return name === e;
  });
}

export interface EgressProxyOptions {
  policy: Exclude<NetworkPolicy, 'none'>;
  /** Hosts added to REGISTRY_HOSTS under `registries` (OMOI_SANDBOX_ALLOW_HOSTS). */
  extraHosts?: readonly string[];
  /** Name resolution (tests map names to local addresses). */
  lookup?: (host: string) => Promise<string[]>;
  /**
   * Test only: `address:port` pairs exempt from the private-range check, so a suite can reach its
   * own server on 127.0.0.1 without any traffic leaving the machine. Nothing sets it in production.
   */
  exemptAddresses?: readonly string[];
  /** One line per refused or failed connection, for the sandbox log. */
  log?: (line: string) => void;
}

export interface EgressDecision {
  ok: boolean;
  address?: string;
  reason?: string;
}

async function defaultLookup(host: string): Promise<string[]> {
  const found = await dnsLookup(host, { all: true, verbatim: true });
  return found.map((entry) => entry.address);
}

/**
 * The egress proxy of one sandbox: `listen(socketPath)` it and bind the socket into the sandbox.
 *
 * @example
 * const proxy = createEgressProxy({ policy: 'registries' });
 * proxy.listen('/srv/omoi/workspaces/local-1/run/egress.sock');
 */
export function createEgressProxy(options: EgressProxyOptions): Server & {
  decide(host: string, port: number): Promise<EgressDecision>;
} {
  const allowed = [...REGISTRY_HOSTS, ...(options.extraHosts ?? [])];
  const lookup = options.lookup ?? defaultLookup;
  const exempt = new Set(options.exemptAddresses ?? []);
  const log = options.log ?? (() => {});

  async function decide(rawHost: string, port: number): Promise<EgressDecision> {
    const host = rawHost.replace(/^\[|\]$/g, '');
    if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, reason: 'bad port' };
    if (options.policy === 'registries' && !hostAllowed(host, allowed))
      return {
        ok: false,
        reason: `${host} is not a package registry (the project's network policy is "registries")`,
      };
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : await lookup(host);
    } catch {
      return { ok: false, reason: `${host} does not resolve` };
    }
    if (addresses.length === 0) return { ok: false, reason: `${host} does not resolve` };
    // Every address must be public: a name with one private address among public ones is refused.
    const bad = addresses.find((a) => isForbiddenAddress(a) && !exempt.has(`${a}:${port}`));
    if (bad)
      return { ok: false, reason: `${host} resolves to ${bad}, a loopback, link-local or private address` };
    return { ok: true, address: addresses[0]! };
  }

  const refuse = (res: ServerResponse, status: number, reason: string) => {
    log(`egress refused: ${reason}`);
    res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`omoi sandbox egress: ${reason}\n`);
  };

  // Plain HTTP through the proxy: `GET http://host/path`.
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      return refuse(res, 400, 'send an absolute http:// URL or use CONNECT');
    }
    if (target.protocol !== 'http:')
      return refuse(res, 400, `${target.protocol} is not proxied; use CONNECT`);
    const port = Number(target.port || 80);
    const decision = await decide(target.hostname, port);
    if (!decision.ok) return refuse(res, 403, decision.reason!);
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: target.host };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = request(
      {
        host: decision.address,
        port,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers,
        setHost: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) refuse(res, 502, `${target.host}: ${error.message}`);
      else res.destroy();
    });
    req.pipe(upstream);
  }) as Server & { decide: typeof decide };

  // HTTPS (and anything else) through a tunnel: `CONNECT host:443`.
  server.on('connect', async (req: IncomingMessage, client: Duplex, head: Buffer) => {
    client.on('error', () => {});
    const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? '');
    if (!match) {
      client.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\nCONNECT host:port\n');
      return;
    }
    const port = Number(match[2]);
    const decision = await decide(match[1]!, port);
    if (!decision.ok) {
      log(`egress refused: ${decision.reason}`);
      client.end(
        `HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\nomoi sandbox egress: ${decision.reason}\n`,
      );
      return;
    }
    const upstream: Socket = connect({ host: decision.address!, port });
    upstream.on('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (error) => {
      log(`egress to ${match[1]}:${port} failed: ${error.message}`);
      client.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n');
    });
    client.on('close', () => upstream.destroy());
  });
  server.decide = decide;
  return server;
}
