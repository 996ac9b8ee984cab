// The egress proxy of local sandboxes on its own: which addresses are never reachable, which hosts
// each policy lets through, and both ways through it (CONNECT and plain HTTP), against a server on
// this machine's loopback that only a test-only exemption makes reachable. No traffic leaves.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEgressProxy,
  hostAllowed,
  isForbiddenAddress,
  REGISTRY_HOSTS,
} from '../../src/sandbox/egress-proxy.js';

describe('addresses a sandbox never reaches', () => {
  it.each([
    '127.0.0.1',
    '127.9.9.9',
    '0.0.0.0',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'fe80::1',
    'fd00::1',
    'not-an-address',
  ])('%s is refused', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });
  it.each(['1.1.1.1', '151.101.1.63', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(isForbiddenAddress(address)).toBe(false);
    },
  );
});

describe('the registries list', () => {
  it('has the registries of the common toolchains, matched exactly or by a leading dot', () => {
    for (const host of [
      'registry.npmjs.org',
      'pypi.org',
      'files.pythonhosted.org',
      'crates.io',
      'proxy.golang.org',
      'rubygems.org',
      'repo.maven.apache.org',
      'deb.debian.org',
    ])
      expect(hostAllowed(host, REGISTRY_HOSTS)).toBe(true);
    expect(hostAllowed('REGISTRY.NPMJS.ORG.', REGISTRY_HOSTS)).toBe(true);
    expect(hostAllowed('evil-registry.npmjs.org', REGISTRY_HOSTS)).toBe(false);
    expect(hostAllowed('registry.npmjs.org.evil.com', REGISTRY_HOSTS)).toBe(false);
    expect(hostAllowed('github.com', REGISTRY_HOSTS)).toBe(false);
    expect(hostAllowed('a.b.internal.example', ['.internal.example'])).toBe(true);
    expect(hostAllowed('internal.example', ['.internal.example'])).toBe(true);
  });
});

describe('the proxy', () => {
  let target: Server;
  let targetPort: number;
  const proxies: Server[] = [];

  beforeAll(async () => {
    target = createServer((req, res) => res.end(`target ${req.method} ${req.url}`));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetPort = (target.address() as AddressInfo).port;
  });
  afterAll(() => {
    target.close();
    for (const p of proxies) p.close();
  });

  async function start(policy: 'registries' | 'open', names: Record<string, string[]>, exempt = true) {
    const proxy = createEgressProxy({
      policy,
      extraHosts: ['pkg.test', 'split.test', 'loop.test'],
      lookup: async (host) => {
        const found = names[host];
        if (!found) throw new Error('ENOTFOUND');
        return found;
      },
      exemptAddresses: exempt ? [`127.0.0.1:${targetPort}`] : [],
    });
    proxies.push(proxy);
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    return (proxy.address() as AddressInfo).port;
  }

  const viaHttp = (proxyPort: number, url: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: proxyPort, path: url, headers: { host: new URL(url).host } },
        (res) => {
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  const viaConnect = (proxyPort: number, authority: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: authority });
      req.on('connect', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });

  it('registries: a listed host goes through, plain HTTP and CONNECT; an unlisted one is refused before any lookup', async () => {
    const port = await start('registries', { 'pkg.test': ['127.0.0.1'], 'github.com': ['127.0.0.1'] });
    expect(await viaHttp(port, `http://pkg.test:${targetPort}/left-pad`)).toEqual({
      status: 200,
      body: 'target GET /left-pad',
    });
    expect(await viaConnect(port, `pkg.test:${targetPort}`)).toBe(200);
    const refused = await viaHttp(port, `http://github.com:${targetPort}/`);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/not a package registry/);
    expect(await viaConnect(port, `github.com:${targetPort}`)).toBe(403);
  });

  it('a listed name that resolves to loopback or has one private address among public ones is refused', async () => {
    const port = await start(
      'registries',
      { 'loop.test': ['127.0.0.1'], 'split.test': ['93.184.216.34', '10.0.0.7'] },
      false,
    );
    const loop = await viaHttp(port, `http://loop.test:${targetPort}/`);
    expect(loop.status).toBe(403);
    expect(loop.body).toMatch(/resolves to 127\.0\.0\.1/);
    expect(await viaConnect(port, 'split.test:443')).toBe(403);
  });

  it('open: any public host is allowed, loopback, private and metadata addresses never', async () => {
    const port = await start('open', { 'anything.test': ['127.0.0.1'] }, false);
    expect(await viaConnect(port, `127.0.0.1:${targetPort}`)).toBe(403);
    expect(await viaConnect(port, `[::1]:${targetPort}`)).toBe(403);
    expect(await viaConnect(port, '169.254.169.254:80')).toBe(403);
    expect(await viaConnect(port, '192.168.0.1:22')).toBe(403);
    expect(await viaConnect(port, `anything.test:${targetPort}`)).toBe(403);
    const proxy = createEgressProxy({ policy: 'open', lookup: async () => ['151.101.1.63'] });
    expect(await proxy.decide('any-public-host.example', 443)).toEqual({ ok: true, address: '151.101.1.63' });
  });
});
