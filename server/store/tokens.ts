// API tokens: created, checked on every request (through a short cache, token-cache.ts),
// revoked. Only hashes are stored.
import {
  DISPLAY_PREFIX_LENGTH,
  displayPrefix,
  generateToken,
  hashToken,
  isTokenShaped,
  TOKEN_PREFIX,
} from '../auth/token-crypto.ts';
import type { RepoContext } from './context.ts';
import { newId } from './context.ts';
import type { ApiToken, Role, User } from './schema.ts';
import { TokenCache } from './token-cache.ts';

/** last_used_at is written at most this often per token, so reads stay reads. */
export const LAST_USED_GRANULARITY_MS = 60_000;

/** A token as listings show it: never the token, never its hash. */
export interface TokenInfo {
  id: string;
  name: string;
  prefix: string;
  user_id: string;
  username: string;
  role: Role;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface Authenticated {
  user: User;
  tokenId: string;
}

export interface TokenRepo {
  /** Makes a token for the user. `token` is shown once and never again; `record` is what is stored. */
  create(userId: string, name: string): Promise<{ token: string; record: ApiToken }>;
  /** The user behind a valid, unrevoked token; undefined for anything else. */
  authenticate(token: string): Promise<Authenticated | undefined>;
  /** True when the token was active and is now revoked. */
  revoke(id: string): Promise<boolean>;
  /** Tokens, oldest first, optionally of one user, revoked ones included. */
  list(filter?: { userId?: string }): Promise<TokenInfo[]>;
  /** Tokens whose display prefix starts with `prefix` (a leading `gbcms_` is ignored). */
  findByPrefix(prefix: string): Promise<TokenInfo[]>;
}

export function tokenRepo({ db, now }: RepoContext): TokenRepo {
  // Several requests a second from one client would otherwise each read the same row.
  const cache = new TokenCache();
  const infoQuery = () =>
    db
      .selectFrom('api_tokens as t')
      .innerJoin('users as u', 'u.id', 't.user_id')
      .select([
        't.id',
        't.name',
        't.prefix',
        't.user_id',
        'u.username',
        'u.role',
        't.created_at',
        't.last_used_at',
        't.revoked_at',
      ])
      .orderBy('t.created_at')
      .orderBy('t.id');

  return {
    async create(userId, name) {
      const token = generateToken();
      const record: ApiToken = {
        id: newId(),
        user_id: userId,
        name,
        token_hash: hashToken(token),
        prefix: displayPrefix(token),
        created_at: now(),
        last_used_at: null,
        revoked_at: null,
      };
      await db.insertInto('api_tokens').values(record).execute();
      return { token, record };
    },

    async authenticate(token) {
      if (!isTokenShaped(token)) return undefined;
      const hash = hashToken(token);
      const nowMs = Date.parse(now());
      const cached = cache.get(hash, nowMs);
      // A use not recorded for a minute goes to the database, which records it.
      if (cached && nowMs - cached.lastUsedMs < LAST_USED_GRANULARITY_MS) {
        return { user: cached.user, tokenId: cached.tokenId };
      }
      const generation = cache.generation;
      const row = await db
        .selectFrom('api_tokens as t')
        .innerJoin('users as u', 'u.id', 't.user_id')
        .select([
          't.id as token_id',
          't.last_used_at',
          'u.id',
          'u.username',
          'u.email',
          'u.role',
          'u.created_at',
        ])
        .where('t.token_hash', '=', hash)
        .where('t.revoked_at', 'is', null)
        .executeTakeFirst();
      if (!row) return undefined;
      const at = now();
      let lastUsed = row.last_used_at;
      if (lastUsed === null || Date.parse(at) - Date.parse(lastUsed) >= LAST_USED_GRANULARITY_MS) {
        await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', row.token_id).execute();
        lastUsed = at;
      }
      const { token_id: tokenId, last_used_at: _, ...user } = row;
      cache.set(hash, { user: { ...user }, tokenId, lastUsedMs: Date.parse(lastUsed) }, nowMs, generation);
      return { user, tokenId };
    },

    async revoke(id) {
      const result = await db
        .updateTable('api_tokens')
        .set({ revoked_at: now() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      TokenCache.revoked(id);
      return result.numUpdatedRows === 1n;
    },

    async list(filter = {}) {
      let query = infoQuery();
      if (filter.userId !== undefined) query = query.where('t.user_id', '=', filter.userId);
      return query.execute();
    },

    async findByPrefix(prefix) {
      const key = (prefix.startsWith(TOKEN_PREFIX) ? prefix.slice(TOKEN_PREFIX.length) : prefix).slice(
        0,
        DISPLAY_PREFIX_LENGTH,
      );
      if (key === '') return [];
      // Compared in code, not with LIKE: prefixes contain `_`, a LIKE wildcard, and LIKE is
      // case-insensitive in SQLite but not in PostgreSQL. Token tables are small.
      const rows = await infoQuery().execute();
      return rows.filter((row) => row.prefix.startsWith(key));
    },
  };
}
