// The running limits across servers. Several `gbcms serve` may share one PostgreSQL database:
// each orders its own executions in its SlotQueue (slots.ts), and one the queue lets start must
// also hold a slot recorded in the database (store.slots), taken atomically there, so that at
// most --max-running executions run over all the servers together and at most a project's
// max_concurrent of that project's. The limit a take checks is the taking server's
// --max-running (give every server the same); the project's limit is the project's.
//
// One the database refuses goes back to its place in its server's queue, marked `refused`, and
// tries again when a slot of this server is released (its database slot went with its end) or
// after RETRY_MS, for the slots other servers release. Within one server the order stays first
// come, first served: takes are made one at a time in the order asked, and a refused one holds
// back its project's later ones (the project is full) or every later one (all slots are taken).
// Across servers the order is best effort: whichever asks first once a slot is free gets it.
//
// A slot is released when its execution ends, whoever ends it (setEnded frees it: the recovery
// of a server that died ends that server's executions and their slots go with them), and when a
// take lands after the job stopped waiting.
import type { SlotRepo, SlotTake } from '../store/index.ts';
import type { ExecutionLogger } from './logger.ts';
import type { SlotRequest } from './slots.ts';

/** How long a refused execution waits before it asks the database again, at most. */
export const RETRY_MS = 500;

export interface ClusterSlotsOptions {
  slots: Pick<SlotRepo, 'tryTakeSlot' | 'releaseSlot'>;
  /** This server's --max-running: the limit over all servers a take checks. */
  maxRunning: number;
  logger: ExecutionLogger;
  /** Refused executions may try again: the manager dispatches its queue. */
  retry(): void;
  retryMs?: number;
}

export class ClusterSlots {
  readonly #options: ClusterSlotsOptions;
  readonly #refused = new Set<SlotRequest>();
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ClusterSlotsOptions) {
    this.#options = options;
  }

  /** Executions waiting to ask the database again. */
  get refused(): number {
    return this.#refused.size;
  }

  /**
   * Takes the execution's slot in the database. This server's takes run one after another, in
   * the order asked. Never rejects: a database error is logged and counts as 'all-busy'.
   */
  take(item: SlotRequest): Promise<SlotTake> {
    const attempt = this.#chain.then(() => this.#try(item));
    this.#chain = attempt;
    return attempt;
  }

  /** The database refused `item`: it waits, marked, until wake() or the retry timer. */
  refuse(item: SlotRequest, take: Exclude<SlotTake, 'taken'>): void {
    item.refused = take === 'project-busy' ? 'project' : 'all';
    this.#refused.add(item);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.wake()) this.#options.retry();
    }, this.#options.retryMs ?? RETRY_MS);
  }

  /** `item` no longer waits (its execution stopped): forgotten. */
  forget(item: SlotRequest): void {
    item.refused = undefined;
    this.#refused.delete(item);
    if (this.#refused.size === 0) this.#clearTimer();
  }

  /**
   * Refused executions may ask again (a slot was released): their marks go, and the caller
   * dispatches. True when there were some.
   */
  wake(): boolean {
    if (this.#refused.size === 0) return false;
    for (const item of this.#refused) item.refused = undefined;
    this.#refused.clear();
    this.#clearTimer();
    return true;
  }

  /** Frees the execution's slot in the database. Never rejects: an error is logged. */
  async release(executionId: string): Promise<void> {
    try {
      await this.#options.slots.releaseSlot(executionId);
    } catch (error) {
      // Its end frees it too, and a take does not count the slot of an ended execution.
      this.#options.logger.warn({ err: error, execution: executionId }, 'could not release the slot');
    }
  }

  /** No more retries (the manager drains). */
  stop(): void {
    this.#clearTimer();
  }

  async #try(item: SlotRequest): Promise<SlotTake> {
    try {
      return await this.#options.slots.tryTakeSlot(item.id, item.projectId, {
        maxRunning: this.#options.maxRunning,
        projectLimit: item.projectLimit,
      });
    } catch (error) {
      this.#options.logger.warn({ err: error, execution: item.id }, 'could not take a slot; trying again');
      return 'all-busy';
    }
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
