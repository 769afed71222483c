// Cluster-wide execution slots: at most `maxRunning` executions hold one at once, and at most
// a project's limit of that project's, counted over every server sharing the database.
//
// A take reads the counts and then inserts: two servers doing that at once on PostgreSQL would
// both see room, so the take is one transaction holding a transaction-level advisory lock, the
// same key for every take (SLOTS_LOCK_KEY): takes run one after another, releases need no lock
// (a delete only makes room). On SQLite the same transaction is serialised by the single writer
// (one server). A row counts only while its execution is active: a row whose execution ended
// without releasing it (a take that committed just after the end) is removed by the next take.
import { sql } from 'kysely';
import type { RunStatus } from '../../engine/status.ts';
import type { RepoContext } from './context.ts';
import { isPostgres } from './dialect.ts';

/** pg_advisory_xact_lock key of the slot table: 'gbcslots' in ASCII, as a 64-bit integer. */
export const SLOTS_LOCK_KEY = 0x6762_6373_6c6f_7473n;

const ACTIVE: readonly RunStatus[] = ['blocked', 'pending', 'running'];

export interface SlotLimits {
  /** How many executions may hold a slot at once, over all servers and projects. */
  maxRunning: number;
  /** How many of the project's may; below 1 counts as 1. */
  projectLimit: number;
}

/** What a take found: the slot is the execution's now, or which limit is reached. */
export type SlotTake = 'taken' | 'all-busy' | 'project-busy';

export interface SlotRepo {
  /**
   * Takes a slot for the execution when both limits leave room (an execution that already holds
   * one keeps it: 'taken'). Refused ('all-busy' before 'project-busy' when both are reached) for
   * an execution that is not blocked, pending or running.
   */
  tryTakeSlot(executionId: string, projectId: string, limits: SlotLimits): Promise<SlotTake>;
  /** The execution's slot is free; nothing happens when it held none. */
  releaseSlot(executionId: string): Promise<void>;
  /** Executions holding a slot, in no defined order (tests and diagnostics). */
  holders(): Promise<string[]>;
}

export function slotRepo({ db, now }: RepoContext): SlotRepo {
  const postgres = isPostgres(db);
  return {
    async tryTakeSlot(executionId, projectId, { maxRunning, projectLimit }) {
      return db.transaction().execute(async (trx) => {
        if (postgres) await sql`select pg_advisory_xact_lock(${SLOTS_LOCK_KEY})`.execute(trx);
        await trx
          .deleteFrom('execution_slots')
          .where(({ exists, not, selectFrom }) =>
            not(
              exists(
                selectFrom('executions')
                  .select('executions.id')
                  .whereRef('executions.id', '=', 'execution_slots.execution_id')
                  .where('executions.status', 'in', ACTIVE),
              ),
            ),
          )
          .execute();
        const execution = await trx
          .selectFrom('executions')
          .select('status')
          .where('id', '=', executionId)
          .executeTakeFirst();
        if (!execution || !ACTIVE.includes(execution.status)) return 'all-busy';
        const counts = await trx
          .selectFrom('execution_slots')
          .select((eb) => [
            eb.fn.countAll<number>().as('all'),
            eb.fn
              .sum<number | null>(eb.case().when('project_id', '=', projectId).then(1).else(0).end())
              .as('project'),
            eb.fn
              .sum<number | null>(eb.case().when('execution_id', '=', executionId).then(1).else(0).end())
              .as('mine'),
          ])
          .executeTakeFirstOrThrow();
        if (Number(counts.mine ?? 0) > 0) return 'taken';
        if (Number(counts.all) >= maxRunning) return 'all-busy';
        if (Number(counts.project ?? 0) >= Math.max(1, projectLimit)) return 'project-busy';
        await trx
          .insertInto('execution_slots')
          .values({ execution_id: executionId, project_id: projectId, taken_at: now() })
          .execute();
        return 'taken';
      });
    },

    async releaseSlot(executionId) {
      await db.deleteFrom('execution_slots').where('execution_id', '=', executionId).execute();
    },

    async holders() {
      const rows = await db.selectFrom('execution_slots').select('execution_id').execute();
      return rows.map((row) => row.execution_id);
    },
  };
}
