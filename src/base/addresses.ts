// Addresses that code acting for someone else (a sandboxed agent through the egress proxy, a
// webhook a project's settings name) must never reach: this machine, private networks, link-local
// (cloud metadata), multicast and the reserved and documentation ranges. One list, IPv4 and IPv6.
import { BlockList, isIP } from 'node:net';

const NOT_PUBLIC = (() => {
  const list = new BlockList();
  for (const [net, prefix] of [
    ['0.0.0.0', 8], // this network
    ['10.0.0.0', 8],
    ['100.64.0.0', 10], // carrier-grade NAT
    ['127.0.0.0', 8],
    ['169.254.0.0', 16], // link-local, cloud metadata
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24], // documentation
    ['192.168.0.0', 16],
    ['198.18.0.0', 15], // benchmarking
    ['198.51.100.0', 24], // documentation
    ['203.0.113.0', 24], // documentation
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, broadcast
  ] as const)
    list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of [
    ['::', 128],
    ['::1', 128],
    ['64:ff9b::', 96], // NAT64 of any IPv4 address
    ['100::', 64], // discard
    ['2001:db8::', 32], // documentation
    ['fc00::', 7], // unique local
    ['fe80::', 10], // link-local
    ['ff00::', 8], // multicast
  ] as const)
    list.addSubnet(net, prefix, 'ipv6');
  return list;
})();

/**
 * True for an address that is not on the public internet (or not an address at all). An IPv4
 * address written as IPv6 (`::ffff:127.0.0.1`) is judged as the IPv4 address it is.
 *
 * @example
 * isNonPublicAddress('169.254.169.254'); // true
 * isNonPublicAddress('::ffff:10.0.0.1'); // true
 */
export function isNonPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return NOT_PUBLIC.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
