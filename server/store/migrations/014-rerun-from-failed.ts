// A re-run from the failed steps keeps that it is one: queued again after a restart, it must
// still reuse the steps that succeeded rather than run them all. 1: from the failed steps; 0: a
// plain re-run or no re-run. The steps it reuses are recorded with the status `reused`, which
// needs no column (statuses have no CHECK constraint, 001-initial).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('executions')
    .addColumn('rerun_from_failed', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('executions').dropColumn('rerun_from_failed').execute();
}
