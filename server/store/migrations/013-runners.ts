// Runners: machines that claim executions from the server over HTTP and run them on their own
// engine. Each has its own credential, a token of its own kind (only its hash is kept), and
// labels that say which work it takes. An execution remembers the runner that ran it by name,
// so its page can say so after the runner is revoked or gone.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('runners')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    /** JSON array of label strings, as registered. */
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('last_seen_at', 'text')
    .addColumn('version', 'text')
    .addColumn('capacity', 'integer')
    .execute();
  await db.schema.createIndex('runners_created_by').on('runners').column('created_by').execute();
  await db.schema.alterTable('executions').addColumn('runner', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('executions').dropColumn('runner').execute();
  await db.schema.dropTable('runners').execute();
}
