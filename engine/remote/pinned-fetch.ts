// Fetches one file a pipeline names by URL: HTTPS only, at most `maxBytes`, within a time
// limit, no redirects, and only from addresses the policy allows (each resolved address is
// checked, and the connection goes to the checked one).
import { lookup as dnsLookup } from 'node:dns';
import { request } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { type AddressPolicy, refusedAddress } from './address-policy.ts';

export interface FetchOptions extends AddressPolicy {
  maxBytes: number;
  timeoutMs: number;
  /** Certificates to trust besides the system's: for tests with their own server. */
  ca?: string;
}

/** A remote file gbcms did not get, with why (a sentence fragment for a diagnostic). */
export class RemoteFetchError extends Error {
  constructor(readonly why: string) {
    super(why);
    this.name = 'RemoteFetchError';
  }
}

export async function fetchPinned(url: URL, options: FetchOptions): Promise<Buffer> {
  if (url.protocol !== 'https:') throw new RemoteFetchError('only https:// URLs are fetched');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) {
    const refused = refusedAddress(host, options);
    if (refused) throw new RemoteFetchError(`refused: ${refused}`);
  }
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as { address: string; family: number }[];
      const refused = list.map((entry) => refusedAddress(entry.address, options)).find(Boolean);
      if (refused || list.length === 0) {
        return callback(
          new RemoteFetchError(`refused: ${hostname} resolves to ${refused ?? 'nothing'}`),
          '',
          0,
        );
      }
      if (lookupOptions.all) return callback(null, list);
      const [first] = list;
      return callback(null, first?.address ?? '', first?.family ?? 4);
    });
  };
  return new Promise<Buffer>((resolve, reject) => {
    const fail = (why: string) => reject(new RemoteFetchError(why));
    const req = request(url, {
      lookup,
      ca: options.ca,
      timeout: options.timeoutMs,
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: { accept: 'application/yaml, text/plain, */*' },
    });
    req.on('timeout', () => req.destroy(new RemoteFetchError(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', (error) => {
      if (error instanceof RemoteFetchError) return reject(error);
      if (error.name === 'AbortError' || error.name === 'TimeoutError') {
        return fail(`no answer within ${options.timeoutMs} ms`);
      }
      fail(`cannot be fetched (${error.message})`);
    });
    req.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        response.resume();
        return fail(`answered with a redirect (${status}); redirects are not followed, pin the final URL`);
      }
      if (status !== 200) {
        response.resume();
        return fail(`answered with HTTP ${status}`);
      }
      const chunks: Buffer[] = [];
      let total = 0;
      response.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > options.maxBytes) {
          req.destroy();
          return fail(`is larger than ${options.maxBytes} bytes`);
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolve(Buffer.concat(chunks)));
      response.on('error', (error) => fail(`cannot be fetched (${error.message})`));
    });
    req.end();
  });
}
