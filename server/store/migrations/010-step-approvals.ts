// Approval gates: a step that waits for someone's approval keeps what they are asked (its
// message, who may answer) and, once someone decided, who it was, what they decided and when.
// On the step's own row: a gate belongs to one step of one execution and goes with it.
import type { Kysely } from 'kysely';

const COLUMNS = ['approval_message', 'approval_approvers', 'approval_decision', 'approval_by', 'approval_at'];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const column of COLUMNS) await db.schema.alterTable('steps').addColumn(column, 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of [...COLUMNS].reverse())
    await db.schema.alterTable('steps').dropColumn(column).execute();
}
