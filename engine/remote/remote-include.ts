// A remote include is pinned by the SHA-256 of its bytes: what runs is what was reviewed,
// whatever the server at the URL serves tomorrow. Fetched files are kept under their hash,
// so a pipeline checks offline once it has been read online, and a changed file is refused
// instead of silently run.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MAX_PIPELINE_BYTES } from '../lint/parse-file.ts';
import { type FetchOptions, fetchPinned, RemoteFetchError } from './pinned-fetch.ts';

export const REMOTE_INCLUDE_TIMEOUT_MS = 15_000;

export interface RemoteIncludeOptions {
  /** Where fetched files are kept by hash; default: the user's cache (defaultIncludeCache). */
  cacheDir?: string;
  /** Use only cached files: a remote include not in the cache is an error. */
  offline?: boolean;
  /** Test servers only: allow loopback, trust a certificate, a shorter time limit. */
  fetch?: Partial<Pick<FetchOptions, 'allowLoopback' | 'ca' | 'timeoutMs'>>;
}

/** $XDG_CACHE_HOME/gbcms/includes, else ~/.cache/gbcms/includes. */
export function defaultIncludeCache(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'gbcms', 'includes');
}

export type RemoteAnswer =
  | { ok: true; bytes: Buffer }
  | {
      ok: false;
      code: 'GBCMS_INCLUDE_OFFLINE' | 'GBCMS_INCLUDE_FETCH' | 'GBCMS_INCLUDE_HASH';
      message: string;
    };

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The file at `url` whose SHA-256 is `sha256`, from the cache or fetched into it. */
export async function remoteInclude(
  url: URL,
  sha256: string,
  options: RemoteIncludeOptions = {},
): Promise<RemoteAnswer> {
  const dir = options.cacheDir ?? defaultIncludeCache();
  const path = join(dir, `${sha256}.yml`);
  const cached = await readFile(path).catch(() => undefined);
  // A cached file that no longer has its hash (edited, half written) is fetched again.
  if (cached && sha256Of(cached) === sha256) return { ok: true, bytes: cached };
  if (options.offline) {
    return {
      ok: false,
      code: 'GBCMS_INCLUDE_OFFLINE',
      message: `'${url.href}' is not in the include cache (${dir}) and --offline forbids fetching it; run once online`,
    };
  }
  let bytes: Buffer;
  try {
    bytes = await fetchPinned(url, {
      maxBytes: MAX_PIPELINE_BYTES,
      timeoutMs: options.fetch?.timeoutMs ?? REMOTE_INCLUDE_TIMEOUT_MS,
      allowLoopback: options.fetch?.allowLoopback,
      ca: options.fetch?.ca,
    });
  } catch (error) {
    if (!(error instanceof RemoteFetchError)) throw error;
    return { ok: false, code: 'GBCMS_INCLUDE_FETCH', message: `'${url.href}' ${error.why}` };
  }
  const actual = sha256Of(bytes);
  if (actual !== sha256) {
    return {
      ok: false,
      code: 'GBCMS_INCLUDE_HASH',
      message: `'${url.href}' has sha256 ${actual}, not the pinned ${sha256}; review the file, then pin the new hash`,
    };
  }
  await mkdir(dir, { recursive: true });
  // Written aside and renamed: a reader never sees half a file under the hash.
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, bytes);
  await rename(partial, path);
  return { ok: true, bytes };
}
