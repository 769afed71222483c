// Per-project settings for commit statuses: whether each step gets a status of its own, and,
// for repositories notified by the plain git hook (a mirror of a forge repository), which
// forge repository their commits belong to. A table of its own: most projects keep the
// defaults (no row), and the projects row stays as it is.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('project_status_settings')
    .addColumn('project_id', 'text', (c) => c.primaryKey().references('projects.id').onDelete('cascade'))
    .addColumn('step_statuses', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('forge', 'text')
    .addColumn('forge_repo', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('project_status_settings').execute();
}
