// Session keys: a capability to create executions in one session and report to them. A key
// lapses SESSION_KEY_LIFETIME_MS after the newest execution of its session started (or after
// it was made, while the session has none): the reclaim rule of sessions nobody uses any more.
import {
  generateSessionKey,
  hashSessionKey,
  isSessionKeyShaped,
  sessionKeyDisplayPrefix,
} from '../auth/session-key-crypto.ts';
import { newId, type RepoContext } from './context.ts';
import type { Session, SessionKey } from './schema.ts';

export const SESSION_KEY_LIFETIME_MS = 14 * 24 * 3600 * 1000;

/** A key as lists show it: never the key, never its hash. */
export interface SessionKeyInfo {
  id: string;
  session_id: string;
  prefix: string;
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
  /** When it lapses unless another execution starts in the session first. */
  expires_at: string;
}

export interface SessionKeyRepo {
  /** A new key for the session. `key` is shown once; only its hash is kept. */
  create(sessionId: string, createdBy: string | null): Promise<{ key: string; info: SessionKeyInfo }>;
  /** The session a valid key opens; undefined when it is unknown, revoked or expired. */
  authenticate(key: string): Promise<{ keyId: string; session: Session } | undefined>;
  /** The session's keys, oldest first, revoked ones included. */
  list(sessionId: string): Promise<SessionKeyInfo[]>;
  /** True when the key of that session was active and is now revoked. */
  revoke(sessionId: string, keyId: string): Promise<boolean>;
}

export function sessionKeyRepo({ db, now }: RepoContext): SessionKeyRepo {
  /** When the session's newest execution started; undefined while it has none. */
  const lastStart = async (sessionId: string): Promise<string | undefined> => {
    const row = await db
      .selectFrom('executions')
      .select((eb) => eb.fn.max(eb.fn.coalesce('started_at', 'created_at')).as('last'))
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return row?.last ?? undefined;
  };

  const expiresAt = (key: Pick<SessionKey, 'created_at'>, last: string | undefined): string => {
    const from = last !== undefined && last > key.created_at ? last : key.created_at;
    return new Date(Date.parse(from) + SESSION_KEY_LIFETIME_MS).toISOString();
  };

  const info = (key: SessionKey, last: string | undefined): SessionKeyInfo => {
    const { key_hash: _, ...shown } = key;
    return { ...shown, expires_at: expiresAt(key, last) };
  };

  return {
    async create(sessionId, createdBy) {
      const key = generateSessionKey();
      const record: SessionKey = {
        id: newId(),
        session_id: sessionId,
        key_hash: hashSessionKey(key),
        prefix: sessionKeyDisplayPrefix(key),
        created_by: createdBy,
        created_at: now(),
        revoked_at: null,
      };
      await db.insertInto('session_keys').values(record).execute();
      return { key, info: info(record, await lastStart(sessionId)) };
    },

    async authenticate(key) {
      if (!isSessionKeyShaped(key)) return undefined;
      const row = await db
        .selectFrom('session_keys')
        .selectAll()
        .where('key_hash', '=', hashSessionKey(key))
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (!row) return undefined;
      if (expiresAt(row, await lastStart(row.session_id)) <= now()) return undefined;
      const session = await db
        .selectFrom('sessions')
        .selectAll()
        .where('id', '=', row.session_id)
        .executeTakeFirst();
      return session ? { keyId: row.id, session } : undefined;
    },

    async list(sessionId) {
      const rows = await db
        .selectFrom('session_keys')
        .selectAll()
        .where('session_id', '=', sessionId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      const last = await lastStart(sessionId);
      return rows.map((row) => info(row, last));
    },

    async revoke(sessionId, keyId) {
      const result = await db
        .updateTable('session_keys')
        .set({ revoked_at: now() })
        .where('id', '=', keyId)
        .where('session_id', '=', sessionId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
  };
}
