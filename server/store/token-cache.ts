// API tokens checked recently, by hash, so that a client polling the API costs one hash per
// request rather than a join and a row read. Only valid tokens are kept, for TOKEN_CACHE_TTL_MS
// at most. A revocation through any store of this process drops the token from every cache at
// once, so a revoked token is refused on the very next request; another process (the
// `gbcms token revoke` CLI, a second server) revokes in the database only, and there the TTL
// bounds how long the token may still be taken.
import type { User } from './schema.ts';

/** A valid token's user and id. */
export interface CachedToken {
  user: User;
  tokenId: string;
  /** When its last use was recorded (epoch ms): a cached check still records a use once a minute. */
  lastUsedMs: number;
}

export const TOKEN_CACHE_TTL_MS = 10_000;
export const TOKEN_CACHE_SIZE = 1000;

interface Entry {
  value: CachedToken;
  expiresAt: number;
}

const everyCache = new Set<WeakRef<TokenCache>>();

export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #size: number;
  /** Bumped by each revocation: a lookup that began before one must not store what it read. */
  #generation = 0;

  constructor(ttlMs = TOKEN_CACHE_TTL_MS, size = TOKEN_CACHE_SIZE) {
    this.#ttlMs = ttlMs;
    this.#size = size;
    everyCache.add(new WeakRef(this));
  }

  get generation(): number {
    return this.#generation;
  }

  get(hash: string, nowMs: number): CachedToken | undefined {
    const entry = this.#entries.get(hash);
    if (entry === undefined) return undefined;
    this.#entries.delete(hash);
    if (entry.expiresAt <= nowMs) return undefined;
    this.#entries.set(hash, entry);
    return { ...entry.value, user: { ...entry.value.user } };
  }

  /** Keeps a lookup's result, unless a token was revoked since `generation` was read. */
  set(hash: string, value: CachedToken, nowMs: number, generation: number): void {
    if (generation !== this.#generation) return;
    this.#entries.delete(hash);
    this.#entries.set(hash, { value, expiresAt: nowMs + this.#ttlMs });
    if (this.#entries.size > this.#size) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  #forget(tokenId: string): void {
    this.#generation += 1;
    for (const [hash, entry] of this.#entries)
      if (entry.value.tokenId === tokenId) this.#entries.delete(hash);
  }

  /** Drops the token from every cache of this process. */
  static revoked(tokenId: string): void {
    for (const ref of everyCache) {
      const cache = ref.deref();
      if (cache === undefined) everyCache.delete(ref);
      else cache.#forget(tokenId);
    }
  }
}
