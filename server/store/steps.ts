// Steps of an execution: the engine's StepRecord, kept as it changes.
import type { StepRecord } from '../../engine/run-record.ts';
import type { RepoContext } from './context.ts';
import { reusedQuery } from './reused-query.ts';
import type { ApprovalDecisionKind, StoredStep } from './schema.ts';

export interface StepRepo {
  /**
   * Inserts or replaces the step's record. `position` is its place in the plan; when omitted,
   * a new step goes after the execution's others and an existing one keeps its place.
   */
  upsert(executionId: string, step: StepRecord, position?: number): Promise<void>;
  /** In plan order. */
  list(executionId: string): Promise<StoredStep[]>;
  /** The step's approval gate opened: records what is asked and who may answer. */
  openGate(
    executionId: string,
    name: string,
    gate: { message: string; approvers: readonly string[] },
  ): Promise<void>;
  /**
   * Records who decided the step's gate, what and when. False when it was decided already:
   * the first decision stands.
   */
  decideGate(executionId: string, name: string, decision: StoredGateDecision): Promise<boolean>;
}

export interface StoredGateDecision {
  decision: ApprovalDecisionKind;
  by: string;
  at: string;
}

export function stepRepo({ db }: RepoContext): StepRepo {
  // Every look at an execution lists them.
  const listQuery = reusedQuery(db, (executionId: string) =>
    db.selectFrom('steps').selectAll().where('execution_id', '=', executionId).orderBy('position'),
  );
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

    list: (executionId) => listQuery(executionId),

    async openGate(executionId, name, gate) {
      await db
        .updateTable('steps')
        .set({ approval_message: gate.message, approval_approvers: JSON.stringify(gate.approvers) })
        .where('execution_id', '=', executionId)
        .where('name', '=', name)
        .execute();
    },

    async decideGate(executionId, name, { decision, by, at }) {
      const result = await db
        .updateTable('steps')
        .set({ approval_decision: decision, approval_by: by, approval_at: at })
        .where('execution_id', '=', executionId)
        .where('name', '=', name)
        .where('approval_decision', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
  };
}
