// Cron schedules: each row is one project's recurring trigger. `next_run_at` is both the
// schedule's next tick and the claim token servers compete for (see store/schedules.ts), so
// it is indexed for the scheduler's "what is due" query.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('schedules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('name', 'text')
    .addColumn('cron', 'text', (c) => c.notNull())
    .addColumn('branch', 'text', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('next_run_at', 'text')
    .addColumn('last_run_at', 'text')
    .addColumn('last_execution_id', 'text', (c) => c.references('executions.id').onDelete('set null'))
    .addColumn('created_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('schedules_project').on('schedules').column('project_id').execute();
  await db.schema.createIndex('schedules_next_run').on('schedules').column('next_run_at').execute();
  // Deleting an execution or a user nulls the references to it; without an index each delete scans.
  await db.schema
    .createIndex('schedules_last_execution')
    .on('schedules')
    .column('last_execution_id')
    .execute();
  await db.schema.createIndex('schedules_created_by').on('schedules').column('created_by').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('schedules').execute();
}
