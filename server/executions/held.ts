// Executions created `blocked` (a fork's pull request waiting for approval): kept outside the
// slot queue, so they take no slot and start no container, each with a live stream so a page
// open on it follows what becomes of it. approve() takes one out to queue it, terminate() to end
// it; take() is synchronous, so whichever asks first decides and the other finds it gone.
import type { Execution } from '../store/index.ts';
import { type EndingContext, endExecution } from './ending.ts';
import type { EventStream } from './event-stream.ts';

export interface Held {
  execution: Execution;
  stream: EventStream;
}

export interface HeldContext {
  ending: EndingContext;
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
