// Which webhook targets the server refuses: every address of a name is checked, IPv4 and IPv6, and the
// socket's own lookup refuses a name that resolves to a private address at connection time.
import { describe, expect, it } from 'vitest';
import { maskUrl } from '../../src/notify/settings.js';
import {
  checkedAddresses,
  guardedLookup,
  isPrivateAddress,
  type Resolver,
} from '../../src/notify/targets.js';

/** A name server that answers what the test says (the one thing here that cannot be real). */
const answers =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('webhook targets', () => {
  it('knows loopback, private, link-local and mapped addresses', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.5',
      '172.20.1.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
      '::ffff:7f00:1',
    ])
      expect(isPrivateAddress(address), address).toBe(true);
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '172.32.0.1'])
      expect(isPrivateAddress(address), address).toBe(false);
  });

  it('refuses a name when any one of its addresses is private', async () => {
    await expect(
      checkedAddresses('https://hooks.example.com/x', {
        allowPrivate: false,
        resolve: answers('93.184.216.34', 'fd12::7'),
      }),
    ).rejects.toThrow(/resolves to fd12::7/);
    await expect(
      checkedAddresses('https://hooks.example.com/x', {
        allowPrivate: false,
        resolve: answers('93.184.216.34'),
      }),
    ).resolves.toHaveLength(1);
    await expect(
      checkedAddresses('https://hooks.example.com/x', { allowPrivate: true, resolve: answers('127.0.0.1') }),
    ).resolves.toHaveLength(1);
  });

  it('refuses at connection time a name that rebinds to a private address', async () => {
    let calls = 0;
    // Public when the setting is written, loopback when the delivery connects.
    const rebinding: Resolver = async () => [
      calls++ === 0 ? { address: '93.184.216.34', family: 4 } : { address: '127.0.0.1', family: 4 },
    ];
    await checkedAddresses('https://rebind.example.com/', { allowPrivate: false, resolve: rebinding });
    const lookup = guardedLookup({ allowPrivate: false, resolve: rebinding });
    const error = await new Promise<Error | null>((resolve) =>
      lookup('rebind.example.com', {}, (e) => resolve(e)),
    );
    expect(error?.message).toContain('127.0.0.1');
  });

  it('masks the part of a URL that may be a token', () => {
    expect(maskUrl('https://hooks.slack.com/services/T0/B0/XyZsecret')).toBe(
      'https://hooks.slack.com/services/T0/B0/…',
    );
    expect(maskUrl('https://ci.example.com/hook?token=abc')).toBe('https://ci.example.com/…?…');
    expect(maskUrl('https://ci.example.com/')).toBe('https://ci.example.com/');
  });
});
