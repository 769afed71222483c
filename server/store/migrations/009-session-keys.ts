// Session keys: capabilities that let a notebook create executions in one session and report to
// them, without a user's token. Only the key's hash is kept; `prefix` tells keys apart in lists.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('session_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('session_keys_session').on('session_keys').column('session_id').execute();
  // Deleting a user nulls created_by; without an index each delete scans.
  await db.schema.createIndex('session_keys_created_by').on('session_keys').column('created_by').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('session_keys').execute();
}
