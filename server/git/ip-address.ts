// Parses IP literals the way the resolver will read them, so a host check cannot be dodged by
// spelling an address differently: glibc's getaddrinfo (used by ssh and git://) and curl
// (https) both accept inet_aton forms such as `0xa9fea9fe` or `169.254.43518`.

/** An IPv4 address in inet_aton syntax (1 to 4 parts, each decimal, 0-octal or 0x-hex), as a 32-bit number. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    const value = parseInetPart(part);
    if (value === undefined) return undefined;
    values.push(value);
  }
  const last = values.pop() ?? 0;
  // The last part fills all the bytes the earlier parts did not give.
  const lastBytes = 4 - values.length;
  if (last >= 2 ** (8 * lastBytes)) return undefined;
  let address = 0;
  for (const value of values) {
    if (value > 255) return undefined;
    address = address * 256 + value;
  }
  return address * 2 ** (8 * lastBytes) + last;
}

function parseInetPart(part: string): number | undefined {
  let value: number;
  if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
  else if (/^0[0-7]*$/.test(part)) value = Number.parseInt(part, 8);
  else if (/^[1-9][0-9]*$/.test(part)) value = Number.parseInt(part, 10);
  else return undefined;
  return value <= 0xffffffff ? value : undefined;
}

/** An IPv6 address without zone id, as eight 16-bit groups. */
export function parseIPv6(text: string): number[] | undefined {
  if (!/^[0-9a-f:.]+$/i.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function groups(text: string): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const result: number[] = [];
  for (const [index, part] of parts.entries()) {
    if (part.includes('.')) {
      // Only the last part may be a dotted IPv4 address (`::ffff:169.254.169.254`).
      if (index !== parts.length - 1 || !/^\d{1,3}(\.\d{1,3}){3}$/.test(part)) return undefined;
      const bytes = part.split('.').map(Number);
      if (bytes.some((b) => b > 255)) return undefined;
      const [a = 0, b = 0, c = 0, d = 0] = bytes;
      result.push(a * 256 + b, c * 256 + d);
    } else {
      if (!/^[0-9a-f]{1,4}$/i.test(part)) return undefined;
      result.push(Number.parseInt(part, 16));
    }
  }
  return result;
}

/** The IPv4 address an IPv6 address carries, for `::ffff:a.b.c.d` (mapped) and `::a.b.c.d` (compatible). */
export function embeddedIPv4(groups: readonly number[]): number | undefined {
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = groups;
  if (g0 !== 0 || g1 !== 0 || g2 !== 0 || g3 !== 0 || g4 !== 0) return undefined;
  if (g5 !== 0 && g5 !== 0xffff) return undefined;
  if (g5 === 0 && g6 === 0) return undefined; // `::` and `::1` are not IPv4 addresses
  return g6 * 65536 + g7;
}

export function formatIPv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}
