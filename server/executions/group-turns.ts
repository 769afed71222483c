// Concurrency groups on the server. A group's scope is the project: executions whose pipeline
// file names the same group take turns, oldest first, and so do steps of the same group across
// the project's executions (engine/concurrency-groups.ts keeps the lines, in memory).
//
// An execution reads its file, and so learns its group, before it waits for a slot: a newer one
// with cancel_in_progress ends the older even when the project runs one at a time. One that must
// wait for its group leaves the slot line meanwhile (holding back none of its project's), stays
// `pending` with the reason on its row and page, and queues for a slot at the back once it is its
// turn. After a restart, recover() queues pending executions again and each takes its place in
// line anew; those that were running ended with the old process, so no one holds a group across it.
import {
  ConcurrencyGroups,
  type Entry,
  type GroupMember,
  waitingFor,
} from '../../engine/concurrency-groups.ts';
import type { ConcurrencyGroup } from '../../engine/plan.ts';
import type { StepGroups } from '../../engine/run.ts';
import type { Execution } from '../store/index.ts';
import type { ClusterSlots } from './cluster-slots.ts';
import type { SlotQueue, SlotRequest } from './slots.ts';

/** A job's place in the slot line: left while it waits for its group, then taken. */
export interface JobSlot {
  /** Leaves the line while the job waits for its group: it holds back none of its project's. */
  yield(): void;
  /** Resolves true once the job holds a slot; false when `signal` aborted first. */
  take(signal: AbortSignal): Promise<boolean>;
}

export interface TurnContext {
  execution: Pick<Execution, 'id' | 'number' | 'project_id'>;
  signal: AbortSignal;
  slot: JobSlot;
  /** Why the execution still waits (its row and its page say so), or null once it does not. */
  waiting(reason: string | null): Promise<void>;
  /** Records the group on the execution's row. */
  recordGroup(group: string): Promise<void>;
  /** Ends the execution (`killed`) with the reason, as a user's terminate would. */
  terminate(reason: string): void;
}

/** What execute() asks: its turn as a whole, and where its steps take theirs. */
export interface ExecutionTurns {
  take(concurrency: ConcurrencyGroup): Promise<Entry>;
  stepGroups: StepGroups;
}

export class GroupTurns {
  readonly #executions = new ConcurrencyGroups();
  readonly #steps = new ConcurrencyGroups();

  /** Members holding or waiting for a group, executions and steps: 0 when nothing waits. */
  get size(): number {
    return this.#executions.size + this.#steps.size;
  }

  forExecution(ctx: TurnContext): ExecutionTurns {
    const { execution } = ctx;
    const projectKey = (group: string) => `${execution.project_id}\0${group}`;
    return {
      take: (concurrency) => this.#take(ctx, projectKey(concurrency.group), concurrency),
      stepGroups: {
        groups: this.#steps,
        key: projectKey,
        member: (step): GroupMember => ({
          age: execution.number,
          label: `step '${step.name}' of execution #${execution.number}`,
        }),
      },
    };
  }

  async #take(ctx: TurnContext, key: string, { group, cancelInProgress }: ConcurrencyGroup): Promise<Entry> {
    const { execution, signal, slot } = ctx;
    await ctx.recordGroup(group);
    let yielded = false;
    let waited = Promise.resolve();
    const member = { age: execution.number, label: `execution #${execution.number}` };
    const entry = await this.#executions.enter(key, group, member, {
      cancelInProgress,
      signal,
      waiting: (holder) => {
        // Waiting for its group, it must not hold back the project's other executions.
        if (!yielded) slot.yield();
        yielded = true;
        waited = waited.then(() => ctx.waiting(waitingFor(holder, group)));
      },
    });
    await waited;
    if ('cancelled' in entry) return entry;
    const { lease } = entry;
    // A newer execution's cancel ends this one like a terminate, with the newer one named.
    const onCancel = () => ctx.terminate(String(lease.cancelled.reason));
    lease.cancelled.addEventListener('abort', onCancel, { once: true });
    if (yielded) await ctx.waiting(null);
    return entry;
  }
}

/** What the slot queue holds: a job that waits there to go on, not to start. */
export interface Resumable extends SlotRequest {
  /** Set once it may take a slot; the dispatcher calls it when it has one. */
  resume?: () => void;
}

/**
 * A job's place in `queue`, where it stands `reading` from its creation. Taken, it keeps that
 * place (or, having left it to wait for its group, queues at the back like a new one) and waits
 * for the dispatcher to resume it. Resumed, it holds this server's slot and takes its slot in
 * the database (`cluster`, cluster-slots.ts); refused there, it goes back to its place, marked,
 * and the dispatcher resumes it again once it may ask anew.
 */
export function queueSlot<T extends Resumable>(
  job: T,
  queue: SlotQueue<T>,
  dispatch: () => void,
  cluster: ClusterSlots,
): JobSlot {
  return {
    yield() {
      if (queue.remove(job.id)) dispatch();
    },
    take(signal) {
      return new Promise((resolve) => {
        if (signal.aborted) return resolve(false);
        let settled = false;
        const settle = (taken: boolean) => {
          settled = true;
          job.resume = undefined;
          signal.removeEventListener('abort', onAbort);
          resolve(taken);
        };
        const onAbort = () => {
          cluster.forget(job);
          queue.remove(job.id);
          settle(false);
        };
        const resume = () => {
          void cluster.take(job).then((take) => {
            if (settled) {
              // It stopped waiting meanwhile: the slot it just got goes (its end frees it too).
              if (take === 'taken') void cluster.release(job.id);
              return;
            }
            if (take === 'taken') return settle(true);
            // Full on the servers together: its slot here goes to whoever may use it meanwhile.
            queue.putBack(job.id);
            cluster.refuse(job, take);
            job.resume = resume;
            dispatch();
          });
        };
        job.resume = resume;
        signal.addEventListener('abort', onAbort, { once: true });
        job.reading = false;
        job.refused = undefined;
        if (!queue.isWaiting(job.id)) queue.enqueue(job);
        dispatch();
      });
    },
  };
}
