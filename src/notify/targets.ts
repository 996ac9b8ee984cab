// Where a webhook may point. A URL on this machine or a private network would let whoever writes a
// project's settings probe the host (SSRF), so every address a name resolves to is checked, IPv4
// and IPv6, when the setting is written and again at each delivery: the delivery connects to the
// address it checked (the lookup below is the socket's), so a name that rebinds between the check
// and the connection gains nothing. OMOI_WEBHOOK_ALLOW_PRIVATE=1 lifts the rule (tests, intranets).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { isNonPublicAddress } from '../base/addresses.js';
import { AppError } from '../base/errors.js';

/** True for an address a webhook may not reach (loopback, private, link-local, …). */
export const isPrivateAddress = isNonPublicAddress;

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
