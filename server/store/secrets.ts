// Secrets as stored: ciphertexts with their limits, never a value (encryption is the caller's,
// server/secrets/). And the audit trail: which secret names each execution was given.
import type { RepoContext } from './context.ts';
import { reusedQuery } from './reused-query.ts';
import type { Execution, SecretsTable } from './schema.ts';

export type StoredSecret = SecretsTable;

/** A secret as listings show it: no nonce, no ciphertext. */
export type SecretInfo = Omit<StoredSecret, 'nonce' | 'ciphertext'>;

export interface SecretUse {
  execution_id: string;
  project_id: string;
  number: number;
  status: Execution['status'];
  created_at: string;
}

export interface SecretRepo {
  /** Creates or replaces the secret `(scope_key, name)`; created_at survives a replacement. */
  put(secret: Omit<StoredSecret, 'created_at'>): Promise<void>;
  /** With its ciphertext, for decryption. */
  get(scopeKey: string, name: string): Promise<StoredSecret | undefined>;
  /** Secrets of one scope, by name. */
  list(scopeKey: string): Promise<SecretInfo[]>;
  /** The named secrets of each scope given, ciphertexts included. */
  find(scopeKeys: readonly string[], names: readonly string[]): Promise<StoredSecret[]>;
  /** True when it existed. */
  remove(scopeKey: string, name: string): Promise<boolean>;
  /** Every secret, for key rotation. */
  all(): Promise<StoredSecret[]>;
  /**
   * Re-encrypts every secret in one transaction: `reseal` gets each stored secret and returns
   * its new nonce and ciphertext. Nothing is written unless every secret is resealed.
   */
  resealAll(reseal: (secret: StoredSecret) => Pick<StoredSecret, 'nonce' | 'ciphertext'>): Promise<number>;
  /** Records which secrets an execution was given (names only). */
  recordUse(executionId: string, secrets: readonly { scope_key: string; name: string }[]): Promise<void>;
  /** The secrets an execution was given, by name. */
  usedBy(executionId: string): Promise<{ scope_key: string; name: string }[]>;
  /** The last executions given this secret, newest first. */
  uses(scopeKey: string, name: string, limit: number): Promise<SecretUse[]>;
}

const INFO_COLUMNS = [
  'scope_key',
  'project_id',
  'name',
  'events',
  'branches',
  'updated_by',
  'created_at',
  'updated_at',
] as const;

export function secretRepo({ db, now }: RepoContext): SecretRepo {
  // Every look at an execution lists them.
  const usedByQuery = reusedQuery(db, (executionId: string) =>
    db
      .selectFrom('execution_secrets')
      .select(['scope_key', 'name'])
      .where('execution_id', '=', executionId)
      .orderBy('name'),
  );
  return {
    async put(secret) {
      const row: StoredSecret = { ...secret, created_at: now() };
      await db
        .insertInto('secrets')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['scope_key', 'name']).doUpdateSet({
            nonce: row.nonce,
            ciphertext: row.ciphertext,
            events: row.events,
            branches: row.branches,
            updated_by: row.updated_by,
            updated_at: row.updated_at,
          }),
        )
        .execute();
    },

    get(scopeKey, name) {
      return db
        .selectFrom('secrets')
        .selectAll()
        .where('scope_key', '=', scopeKey)
        .where('name', '=', name)
        .executeTakeFirst();
    },

    list(scopeKey) {
      return db
        .selectFrom('secrets')
        .select(INFO_COLUMNS)
        .where('scope_key', '=', scopeKey)
        .orderBy('name')
        .execute();
    },

    async find(scopeKeys, names) {
      if (scopeKeys.length === 0 || names.length === 0) return [];
      return db
        .selectFrom('secrets')
        .selectAll()
        .where('scope_key', 'in', [...scopeKeys])
        .where('name', 'in', [...names])
        .execute();
    },

    async remove(scopeKey, name) {
      const result = await db
        .deleteFrom('secrets')
        .where('scope_key', '=', scopeKey)
        .where('name', '=', name)
        .executeTakeFirst();
      return result.numDeletedRows === 1n;
    },

    all() {
      return db.selectFrom('secrets').selectAll().orderBy('scope_key').orderBy('name').execute();
    },

    resealAll(reseal) {
      return db.transaction().execute(async (trx) => {
        const rows = await trx.selectFrom('secrets').selectAll().execute();
        for (const row of rows) {
          const { nonce, ciphertext } = reseal(row);
          await trx
            .updateTable('secrets')
            .set({ nonce, ciphertext })
            .where('scope_key', '=', row.scope_key)
            .where('name', '=', row.name)
            .execute();
        }
        return rows.length;
      });
    },

    async recordUse(executionId, secrets) {
      if (secrets.length === 0) return;
      await db
        .insertInto('execution_secrets')
        .values(secrets.map((s) => ({ execution_id: executionId, scope_key: s.scope_key, name: s.name })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    },

    usedBy: (executionId) => usedByQuery(executionId),

    uses(scopeKey, name, limit) {
      return db
        .selectFrom('execution_secrets as s')
        .innerJoin('executions as e', 'e.id', 's.execution_id')
        .select(['e.id as execution_id', 'e.project_id', 'e.number', 'e.status', 'e.created_at'])
        .where('s.scope_key', '=', scopeKey)
        .where('s.name', '=', name)
        .orderBy('e.created_at', 'desc')
        .orderBy('e.id', 'desc')
        .limit(limit)
        .execute();
    },
  };
}
