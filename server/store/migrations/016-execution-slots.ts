// Cluster-wide slots: which executions hold a place to run, across every server sharing the
// database. A server's own queue (server/executions/slots.ts) decides the order of its
// executions; a row here is what lets one of them run while several servers share the limits
// (server/executions/cluster-slots.ts). The row goes when its execution ends.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('execution_slots')
    .addColumn('execution_id', 'text', (c) => c.primaryKey().references('executions.id').onDelete('cascade'))
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('taken_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('execution_slots_project_id')
    .on('execution_slots')
    .column('project_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('execution_slots').execute();
}
