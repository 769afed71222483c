// How an engine Trigger maps onto an execution row's columns, and back (for re-runs).
import type { Trigger } from '../../engine/plan.ts';
import type { Execution, RefType } from './schema.ts';

export interface TriggerColumns {
  trigger_event: Trigger['event'];
  ref: string | null;
  ref_type: RefType | null;
  commit_sha: string | null;
  author: string | null;
  fork: number;
}

/** A tag wins over a branch: a tag push carries both, and the tag is what it is about. */
export function triggerColumns(trigger: Trigger): TriggerColumns {
  const ref: Pick<TriggerColumns, 'ref' | 'ref_type'> = trigger.tag
    ? { ref: trigger.tag, ref_type: 'tag' }
    : trigger.branch
      ? { ref: trigger.branch, ref_type: 'branch' }
      : { ref: null, ref_type: null };
  return {
    trigger_event: trigger.event,
    ...ref,
    commit_sha: trigger.commit ?? null,
    author: trigger.author ?? null,
    fork: trigger.fork === true ? 1 : 0,
  };
}

/** The trigger an execution ran for. Changed paths are not stored, so `when.path` then matches. */
export function triggerOf(execution: Pick<Execution, keyof TriggerColumns>): Trigger {
  const trigger: Trigger = { event: execution.trigger_event };
  if (execution.ref !== null && execution.ref_type === 'branch') trigger.branch = execution.ref;
  if (execution.ref !== null && execution.ref_type === 'tag') trigger.tag = execution.ref;
  if (execution.commit_sha !== null) trigger.commit = execution.commit_sha;
  if (execution.author !== null) trigger.author = execution.author;
  if (execution.fork === 1) trigger.fork = true;
  return trigger;
}
