// Concurrency groups and schedules from the pipeline file. An execution records the group its
// file put it in (shown on its page; null when none or not read yet). A schedule records where
// it came from: null for one made through the API, the page or the CLI, 'file' for one read
// from the default branch's .gbcms.yml, which the next push to it updates or removes.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('executions').addColumn('concurrency_group', 'text').execute();
  await db.schema.alterTable('schedules').addColumn('source', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('schedules').dropColumn('source').execute();
  await db.schema.alterTable('executions').dropColumn('concurrency_group').execute();
}
