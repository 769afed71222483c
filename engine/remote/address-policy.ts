// Which network addresses gbcms itself may connect to when it fetches something a pipeline
// file names (a remote include). The file comes from a repository, and a fetch from the
// server's network can reach what the internet cannot: the loopback interface, the private
// network, link-local addresses and the cloud metadata service (credentials). The server's
// git URL policy (server/git/url-policy.ts) stops the literal forms in repository sources;
// here every address a name resolves to is checked, and the connection uses the checked
// address, so a DNS name cannot lead there either.
import { BlockList, isIP } from 'node:net';

const REFUSED = new BlockList();
// IPv4: "this network", loopback, private, shared (CGNAT, Alibaba's metadata 100.100.100.200),
// link-local (169.254.169.254 metadata), benchmarking, multicast and reserved.
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  REFUSED.addSubnet(network, prefix, 'ipv4');
}
// IPv6: unspecified, loopback, unique-local (AWS metadata fd00:ec2::254), link-local,
// multicast; IPv4-mapped and NAT64 forms are checked by their IPv4 address below.
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  REFUSED.addSubnet(network, prefix, 'ipv6');
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

export interface AddressPolicy {
  /**
   * Allow loopback addresses: for tests that serve files from this machine only. The
   * default refuses them, as every other address above.
   */
  allowLoopback?: boolean;
}

/** Why gbcms will not connect to `address` (an IP literal), or undefined when it may. */
export function refusedAddress(address: string, policy: AddressPolicy = {}): string | undefined {
  const family = isIP(address);
  if (family === 0) return `'${address}' is not an IP address`;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const embedded = family === 6 ? embeddedIPv4(address) : undefined;
  if (embedded !== undefined) return refusedAddress(embedded, policy);
  if (policy.allowLoopback && LOOPBACK.check(address, type)) return undefined;
  if (REFUSED.check(address, type)) {
    return `${address} is a loopback, private, link-local or metadata address`;
  }
  return undefined;
}

/** The IPv4 address inside ::ffff:a.b.c.d (mapped) or 64:ff9b::a.b.c.d (NAT64), if any. */
function embeddedIPv4(address: string): string | undefined {
  const match = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(
    address,
  );
  if (!match) return undefined;
  if (match[1]) return match[1];
  const high = Number.parseInt(match[2] ?? '0', 16);
  const low = Number.parseInt(match[3] ?? '0', 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}
