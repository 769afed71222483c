// Concurrency groups on the server. A group's scope is the project: executions whose pipeline
// file names the same group take turns, oldest first, and so do steps of the same group across
// the project's executions (engine/concurrency-groups.ts keeps the lines, in memory).
//
// An execution learns its group only once it holds a slot (its file is read from the fetched
// commit). If it must wait, it gives the slot back, stays `pending` with the reason on its row
// and page, and queues for a slot again once it is its turn. After a restart, recover() queues
// pending executions again and each takes its place in line anew; those that were running ended
// with the old process, so no one holds a group across it.
import {
  ConcurrencyGroups,
  type Entry,
  type GroupMember,
  waitingFor,
} from '../../engine/concurrency-groups.ts';
import type { ConcurrencyGroup } from '../../engine/plan.ts';
import type { StepGroups } from '../../engine/run.ts';
import type { Execution } from '../store/index.ts';
import type { SlotQueue, SlotRequest } from './slots.ts';

/** How a job gives its slot back while it waits, and queues for one again. */
export interface JobSlot {
  yield(): void;
  /** Resolves true once the job holds a slot again; false when `signal` aborted first. */
  reclaim(signal: AbortSignal): Promise<boolean>;
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
        // Waiting is not running: the slot goes to whoever can use it meanwhile.
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
    if (!yielded) return entry;
    await ctx.waiting(null);
    if (await slot.reclaim(signal)) return entry;
    lease.release();
    return { cancelled: typeof signal.reason === 'string' ? signal.reason : 'terminated' };
  }
}

/** What the slot queue holds: a job that may be waiting to resume rather than to start. */
export interface Resumable extends SlotRequest {
  /** Set while it queues for a slot again; the dispatcher calls it instead of starting the job. */
  resume?: () => void;
}

/**
 * A job's slot in `queue`. Given back, the queue's next job starts (`dispatch`); reclaimed, the
 * job queues at the back like a new one, and the dispatcher resumes it rather than starting it.
 */
export function queueSlot<T extends Resumable>(job: T, queue: SlotQueue<T>, dispatch: () => void): JobSlot {
  return {
    yield() {
      if (!queue.isRunning(job.id)) return;
      queue.release(job.id);
      dispatch();
    },
    reclaim(signal) {
      return new Promise((resolve) => {
        if (signal.aborted) return resolve(false);
        const onAbort = () => {
          job.resume = undefined;
          queue.remove(job.id);
          resolve(false);
        };
        job.resume = () => {
          signal.removeEventListener('abort', onAbort);
          resolve(true);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        queue.enqueue(job);
        dispatch();
      });
    },
  };
}
