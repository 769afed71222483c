// Where an execution reports its status back to: the forge and repository of the webhook that
// started it, and the last problem posting a status there. A table of its own rather than
// columns on executions: most executions have no forge, and the execution row stays as it is.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('execution_forges')
    .addColumn('execution_id', 'text', (c) => c.primaryKey().references('executions.id').onDelete('cascade'))
    .addColumn('forge', 'text', (c) => c.notNull())
    .addColumn('repo', 'text', (c) => c.notNull())
    .addColumn('problem', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('execution_forges').execute();
}
