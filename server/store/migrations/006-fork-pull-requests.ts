// Pull requests from forks: each project says whether they run at once, wait for a member's
// approval (the default: a fork's pipeline file is code nobody on the project has read), or
// never run. An execution that waited records who approved it and when. `source_repo` keeps
// the fork's clone URL, so an execution approved (or queued again) after a restart still
// builds the fork's commit from the fork, not a branch of that name in the base repository.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('projects')
    .addColumn('fork_pull_requests', 'text', (c) => c.notNull().defaultTo('approve'))
    .execute();
  await db.schema.alterTable('executions').addColumn('source_repo', 'text').execute();
  await db.schema.alterTable('executions').addColumn('approved_by', 'text').execute();
  await db.schema.alterTable('executions').addColumn('approved_at', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('executions').dropColumn('approved_at').execute();
  await db.schema.alterTable('executions').dropColumn('approved_by').execute();
  await db.schema.alterTable('executions').dropColumn('source_repo').execute();
  await db.schema.alterTable('projects').dropColumn('fork_pull_requests').execute();
}
