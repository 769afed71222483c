// Which reverse proxies the server believes about the client's address (X-Forwarded-For) and
// protocol. Trusting every hop would let a client write its own address: the rate limit keys
// on it, so rotating it escapes the limit and forging a neighbour's gets the neighbour banned.
// The operator names the proxies instead, by count or by address, as Fastify supports.
import { isIP } from 'node:net';

/**
 * false: X-Forwarded-* is ignored and the socket's address is the client's. A number: that
 * many proxies stand in front, and the client is the address they saw (counted from the right
 * of X-Forwarded-For). A list: the addresses or CIDR ranges of the proxies; the client is the
 * right-most address in X-Forwarded-For that is not one of them.
 */
export type TrustedProxies = false | number | string[];

export const MAX_PROXY_HOPS = 10;

/** Parses `--trust-proxy`: a hop count or a comma list; throws a message naming the bad part. */
export function parseTrustedProxies(text: string): TrustedProxies {
  const value = text.trim();
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops < 1 || hops > MAX_PROXY_HOPS) {
      throw new Error(`a hop count must be from 1 to ${MAX_PROXY_HOPS}, not ${value}`);
    }
    return hops;
  }
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const problem = addressProblem(entry);
    if (problem) throw new Error(`'${entry}' ${problem}`);
  }
  return entries;
}

function addressProblem(entry: string): string | undefined {
  if (entry === '') return 'is empty: give addresses separated by commas';
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return 'is not an IP address or CIDR range (10.0.0.0/8, ::1)';
  if (bits === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (!/^\d+$/.test(bits) || Number(bits) > max) return `has a prefix length that is not 0 to ${max}`;
  return undefined;
}

/**
 * The form Fastify's `trustProxy` option takes. A hop count becomes the function Fastify
 * itself would build for it (its types leave numbers out): the first `hops` addresses counted
 * from the socket are proxies.
 */
export function fastifyTrustProxy(
  proxies: TrustedProxies,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof proxies !== 'number') return proxies;
  return (_address, hop) => hop < proxies;
}
