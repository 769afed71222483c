// Several `gbcms serve` processes may share one PostgreSQL database. Each registers itself here
// by name with the URL its peers reach it at, and beats every few seconds; one that stops
// beating is taken for dead and a live one takes its executions over. An execution names the
// server that manages it (reads its file, holds its slot, follows its runner): calls about it
// that reach another server are forwarded there. Null: a server without a name managed it (one
// server alone, before this migration), taken as the restarting server's own.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('servers')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    /** Random per process: a restart under the same name is a new incarnation. */
    .addColumn('incarnation', 'text', (c) => c.notNull())
    .addColumn('version', 'text')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('executions').addColumn('server', 'text').execute();
  await db.schema.createIndex('executions_server').on('executions').columns(['server', 'status']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('executions_server').execute();
  await db.schema.alterTable('executions').dropColumn('server').execute();
  await db.schema.dropTable('servers').execute();
}
