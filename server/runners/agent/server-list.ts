// The servers a runner may talk to (`gbcms runner --server URL[,URL...]`), used one at a time:
// the first until it does not answer, then the next, round robin. Any server of a gbcms
// installation takes any runner call, so the one in use serves every call until it fails at the
// connection level (refused, reset, DNS, timeout) or answers 502/503/504, the answers of a proxy
// with no server behind it. Every other answer is the server's word and switches nothing: a 401
// is a 401 on every server. The callers' retries (claims, heartbeats, event batches, finish)
// then go to the next server, with the same positions, so delivery stays exactly once and in
// order. With one URL nothing ever switches.

/** Answers that mean "no server behind this address right now". */
const SWITCHING_STATUSES = new Set([502, 503, 504]);

/** Error codes of a call that never reached a server, or lost it; what each is called in the log. */
const CONNECTION_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ECONNABORTED: 'connection aborted',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CLOSED: 'connection closed',
  ENOTFOUND: 'DNS: name not found',
  EAI_AGAIN: 'DNS: lookup failed',
  EAI_FAIL: 'DNS: lookup failed',
  EAI_NONAME: 'DNS: name not found',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for an answer',
  UND_ERR_BODY_TIMEOUT: 'timed out reading the answer',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EHOSTDOWN: 'host down',
  ENETDOWN: 'network down',
};

/** Whether an HTTP answer with this status makes the runner use the next server. */
export function statusSwitches(status: number): boolean {
  return SWITCHING_STATUSES.has(status);
}

/**
 * Why a call failed at the connection level (fetch's TypeError wraps the socket's error as its
 * cause, sometimes an AggregateError of one per address), or undefined when it did not: an
 * abort by the caller, or anything that is not the network.
 */
export function connectionFailure(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const next = queue.shift();
    if (typeof next !== 'object' || next === null || seen.has(next)) continue;
    seen.add(next);
    const { code, name, cause, errors } = next as {
      code?: unknown;
      name?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (name === 'AbortError') return undefined;
    if (name === 'TimeoutError') return 'timed out';
    if (typeof code === 'string' && code in CONNECTION_CODES) return CONNECTION_CODES[code];
    queue.push(cause);
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return undefined;
}

export class ServerListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerListError';
  }
}

const URL_SHAPE = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;

/** The URLs of `--server`, comma-separated, each an http(s) URL, none twice. */
export function parseServerUrls(text: string | undefined, option = '--server'): string[] {
  const items = (text ?? '').split(',').map((item) => item.trim());
  if (text === undefined || items.every((item) => item === '')) {
    throw new ServerListError(`${option} must be the http:// or https:// URL of a gbcms server`);
  }
  const urls: string[] = [];
  const seen = new Map<string, string>();
  for (const item of items) {
    if (!URL_SHAPE.test(item)) {
      throw new ServerListError(
        items.length === 1
          ? `${option} must be the http:// or https:// URL of a gbcms server`
          : `${option}: '${item}' is not the http:// or https:// URL of a gbcms server ` +
              '(several are separated by commas)',
      );
    }
    const url = item.replace(/\/+$/, '');
    let key: string;
    try {
      key = new URL(url).href.replace(/\/+$/, '');
    } catch {
      throw new ServerListError(`${option}: '${item}' is not a valid URL`);
    }
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new ServerListError(
        earlier === item
          ? `${option} names ${item} twice`
          : `${option} names one server twice: ${earlier} and ${item}`,
      );
    }
    seen.set(key, item);
    urls.push(url);
  }
  return urls;
}

export class ServerList {
  readonly urls: readonly string[];
  #index = 0;
  readonly #onSwitch: (line: string) => void;

  /** `onSwitch` gets one line per switch: "server A did not answer (why); now using B". */
  constructor(urls: readonly string[], onSwitch: (line: string) => void = () => undefined) {
    if (urls.length === 0) throw new ServerListError('a runner needs at least one server');
    this.urls = urls.map((url) => url.replace(/\/+$/, ''));
    this.#onSwitch = onSwitch;
  }

  /** The server every call goes to now. */
  get current(): string {
    return this.urls[this.#index] as string;
  }

  /**
   * A call to `url` failed for `reason` at the connection level (or a 502/503/504): when `url`
   * is still the one in use, the next one is from now on. Calls that were already under way on
   * `url` when another of them switched change nothing, so a burst of failures moves on once.
   * Returns whether this switched.
   */
  failed(url: string, reason: string): boolean {
    if (this.urls.length === 1 || url !== this.current) return false;
    this.#index = (this.#index + 1) % this.urls.length;
    this.#onSwitch(`server ${url} did not answer (${reason}); now using ${this.current}`);
    return true;
  }
}
