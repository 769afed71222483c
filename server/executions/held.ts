// Executions created `blocked` (a fork's pull request waiting for approval): kept outside the
// slot queue, so they take no slot and start no container, each with a live stream so a page
// open on it follows what becomes of it. approve() takes one out to queue it, terminate() to end
// it; take() is synchronous, so whichever asks first decides and the other finds it gone.
import { type Execution, NotFoundError, type Store } from '../store/index.ts';
import { type EndingContext, endExecution } from './ending.ts';
import type { EventStream } from './event-stream.ts';
import { storedRequest } from './stored-request.ts';
import type { StartExecutionRequest } from './types.ts';

export interface Held {
  execution: Execution;
  stream: EventStream;
}

export interface HeldContext {
  ending: EndingContext;
  store: Pick<Store, 'executions' | 'projects'>;
  openStream(executionId: string): EventStream;
  /** Now, as stored. */
  stamp(): string;
}

export class HeldExecutions {
  readonly #held = new Map<string, Held>();
  readonly #ctx: HeldContext;

  constructor(ctx: HeldContext) {
    this.#ctx = ctx;
  }

  hold(execution: Execution): void {
    const stream = this.#ctx.openStream(execution.id);
    this.#held.set(execution.id, { execution, stream });
    stream.publish({ type: 'status', execution });
  }

  has(executionId: string): boolean {
    return this.#held.has(executionId);
  }

  peek(executionId: string): Held | undefined {
    return this.#held.get(executionId);
  }

  /** Out of the hold; undefined when it is not (or no longer) held. */
  take(executionId: string): Held | undefined {
    const held = this.#held.get(executionId);
    this.#held.delete(executionId);
    return held;
  }

  /**
   * Approved by `username`: out of the hold and queued (`admit`) as pending; undefined when it
   * was declined or approved first. One blocked but not held yet (recover() has not run) is
   * recorded approved, and recover() queues it.
   */
  async approve(
    executionId: string,
    username: string,
    admit: (execution: Execution, request: StartExecutionRequest) => void,
  ): Promise<Execution | undefined> {
    const { store } = this.#ctx;
    const { logger } = this.#ctx.ending;
    const held = this.#held.get(executionId);
    if (!held) {
      const row = await store.executions.get(executionId);
      if (!row) throw new NotFoundError('execution', executionId);
      if (row.status !== 'blocked' || !(await store.executions.setApproved(executionId, username))) {
        return undefined;
      }
      return store.executions.get(executionId);
    }
    const project = await store.projects.get(held.execution.project_id);
    if (!project) throw new NotFoundError('project', held.execution.project_id);
    // Declined (or approved) while the project was read: whoever took it out first decides.
    if (!this.take(executionId)) return undefined;
    const at = this.#ctx.stamp();
    if (!(await store.executions.setApproved(executionId, username, at))) return undefined;
    const execution: Execution = {
      ...held.execution,
      status: 'pending',
      approved_by: username,
      approved_at: at,
    };
    logger.info({ execution: executionId, approvedBy: username }, 'execution approved');
    admit(execution, storedRequest(execution, project));
    return execution;
  }

  /** Ends a taken execution `killed` with `reason`: recorded, told to observers and its stream. */
  end(held: Held, reason: string): Promise<Execution> {
    return endExecution(this.#ctx.ending, {
      execution: held.execution,
      stream: held.stream,
      status: 'killed',
      reason,
      at: this.#ctx.stamp(),
      noun: 'execution',
      recorded: () => undefined,
    });
  }
}
