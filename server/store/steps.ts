// Steps of an execution: the engine's StepRecord, kept as it changes.
import type { StepRecord } from '../../engine/run-record.ts';
import type { RepoContext } from './context.ts';
import type { StoredStep } from './schema.ts';

export interface StepRepo {
  /**
   * Inserts or replaces the step's record. `position` is its place in the plan; when omitted,
   * a new step goes after the execution's others and an existing one keeps its place.
   */
  upsert(executionId: string, step: StepRecord, position?: number): Promise<void>;
  /** In plan order. */
  list(executionId: string): Promise<StoredStep[]>;
}

export function stepRepo({ db }: RepoContext): StepRepo {
  return {
    async upsert(executionId, step, position) {
      // Field by field: a caller may hand in a wider object (a stored row) than the record.
      const fields: Omit<StepRecord, 'name'> = {
        status: step.status,
        exit_code: step.exit_code,
        reason: step.reason,
        started_at: step.started_at,
        ended_at: step.ended_at,
        duration_ms: step.duration_ms,
        attempts: step.attempts,
        log: step.log,
      };
      await db
        .insertInto('steps')
        .values((eb) => ({
          execution_id: executionId,
          name: step.name,
          // One statement, no read-then-write: the next position is computed by the insert itself.
          position:
            position ??
            eb
              .selectFrom('steps')
              .select((sub) =>
                sub(sub.fn.coalesce(sub.fn.max('position'), sub.lit(-1)), '+', sub.lit(1)).as('next'),
              )
              .where('execution_id', '=', executionId),
          ...fields,
        }))
        .onConflict((oc) =>
          oc
            .columns(['execution_id', 'name'])
            .doUpdateSet(position === undefined ? fields : { ...fields, position }),
        )
        .execute();
    },

    list: (executionId) =>
      db
        .selectFrom('steps')
        .selectAll()
        .where('execution_id', '=', executionId)
        .orderBy('position')
        .execute(),
  };
}
