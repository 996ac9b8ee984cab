// Where a webhook may point. A URL on this machine or a private network would let whoever writes a
// project's settings probe the host (SSRF), so every address a name resolves to is checked, IPv4
// and IPv6, when the setting is written and again at each delivery: the delivery connects to the
// address it checked (the lookup below is the socket's), so a name that rebinds between the check
// and the connection gains nothing. OMOI_WEBHOOK_ALLOW_PRIVATE=1 lifts the rule (tests, intranets).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../base/errors.js';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['64:ff9b::', 96], // NAT64 of any IPv4 address
  ['2001:db8::', 32],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

/** True for an address a webhook may not reach (loopback, private, link-local, …). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is checked as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  return blocked.check(address, 'ipv6');
}

export type Resolver = (host: string) => Promise<LookupAddress[]>;

/** Every address of a name (or the literal address itself). */
export const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => {
    const bare = host.replace(/^\[|\]$/g, '');
    if (isIP(bare)) return resolve([{ address: bare, family: isIP(bare) }]);
    dnsLookup(bare, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    );
  });

/** Parses a webhook URL: http(s), no credentials in it; else BAD_REQUEST. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('BAD_REQUEST', `webhook url "${raw}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new AppError('BAD_REQUEST', `webhook url must be http or https, not ${url.protocol}`);
  if (url.username || url.password)
    throw new AppError('BAD_REQUEST', 'a webhook url carries no user or password (sign with the secret)');
  return url;
}

/**
 * The addresses of a webhook's host, all of them allowed, or BAD_REQUEST naming the one refused.
 *
 * @example
 * await checkedAddresses('http://127.0.0.1:9/x', { allowPrivate: false }); // throws BAD_REQUEST
 */
export async function checkedAddresses(
  raw: string,
  options: { allowPrivate: boolean; resolve?: Resolver },
): Promise<LookupAddress[]> {
  const url = parseWebhookUrl(raw);
  let addresses: LookupAddress[];
  try {
    addresses = await (options.resolve ?? systemResolver)(url.hostname);
  } catch (error) {
    throw new AppError('BAD_REQUEST', `webhook host ${url.hostname} does not resolve`, { cause: error });
  }
  if (addresses.length === 0)
    throw new AppError('BAD_REQUEST', `webhook host ${url.hostname} has no address`);
  if (!options.allowPrivate) {
    const refused = addresses.find((a) => isPrivateAddress(a.address));
    if (refused)
      throw new AppError(
        'BAD_REQUEST',
        `webhook host ${url.hostname} resolves to ${refused.address}, a loopback, private or link-local ` +
          'address; the server refuses those unless OMOI_WEBHOOK_ALLOW_PRIVATE=1',
      );
  }
  return addresses;
}

/**
 * A `lookup` for http.request that resolves, checks every address and hands the socket the one it
 * checked (no second resolution a rebinding name could answer differently).
 */
export function guardedLookup(options: { allowPrivate: boolean; resolve?: Resolver }) {
  return (
    host: string,
    lookupOptions: { all?: boolean },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    checkedAddresses(`http://${host.includes(':') ? `[${host}]` : host}/`, options).then(
      (addresses) => {
        if (lookupOptions.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: Error) => callback(error, ''),
    );
  };
}
