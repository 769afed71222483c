// The server's housekeeping over ended executions: old executions and their folders (retention),
// caches no key reaches or past their project's budget, and what ended runs still hold on the
// backend. Each runs on demand and on a timer that does not keep the process alive.
import { sweepLeftovers } from '../../engine/leftovers.ts';
import { isFinished } from '../../engine/status.ts';
import { DEFAULT_CACHE_BUDGET_BYTES, sweepCaches } from './cache-sweep.ts';
import type { ExecutionManagerOptions } from './manager-types.ts';
import { everyInterval, removeOldExecutions } from './retention.ts';

export interface ExecutionSweepsOptions
  extends Pick<ExecutionManagerOptions, 'store' | 'dataDir' | 'backend' | 'logger' | 'cacheBudgetBytes'> {
  now(): Date;
  /** Whether this process runs the execution: its resources are in use, never leftovers. */
  isRunning(executionId: string): boolean;
}

export class ExecutionSweeps {
  readonly #options: ExecutionSweepsOptions;

  constructor(options: ExecutionSweepsOptions) {
    this.#options = options;
  }

  /** Deletes finished executions created before `olderThan`, rows and folders. Returns how many. */
  retention(olderThan: Date): Promise<number> {
    const { store, dataDir, logger } = this.#options;
    return removeOldExecutions(store, dataDir, olderThan, logger);
  }

  /**
   * Removes the caches no key reaches any more and, per project, the least recently used past
   * the budget (cache-sweep.ts). Returns how many went; 0 when the backend keeps no caches.
   */
  caches(): Promise<number> {
    const { store, backend, logger, cacheBudgetBytes } = this.#options;
    if (backend.caches === undefined) return Promise.resolve(0);
    const budgetBytes = cacheBudgetBytes ?? DEFAULT_CACHE_BUDGET_BYTES;
    return sweepCaches({ store, caches: backend.caches, budgetBytes, logger, now: this.#options.now() });
  }

  /**
   * Sweeps executions older than `retentionMs` (null: keeps them all) and the caches now and
   * every `intervalMs`. Returns the stop function.
   */
  startRetentionTimer(retentionMs: number | null, intervalMs: number): () => void {
    const sweep = async () => {
      const executions =
        retentionMs === null
          ? 0
          : await this.retention(new Date(this.#options.now().getTime() - retentionMs));
      return executions + (await this.caches());
    };
    return everyInterval(sweep, intervalMs, this.#options.logger, 'old executions and caches');
  }

  /**
   * Removes what ended executions still hold on the backend: their cleanup could not reach it
   * (the Docker daemon was restarting), and nothing else would try again. Executions this
   * process runs, and runs the store does not know (a `gbcms run` on the same engine), stay.
   * Returns how many executions' leftovers went.
   */
  async leftovers(): Promise<number> {
    const { store, backend, logger, isRunning } = this.#options;
    const sweep = await sweepLeftovers(backend, async (id) => {
      if (isRunning(id)) return false;
      const row = await store.executions.get(id);
      return row !== undefined && isFinished(row.status);
    });
    for (const { id, reason } of sweep.failed) {
      logger.warn({ execution: id, reason }, 'could not remove what an execution left; trying again later');
    }
    return sweep.removed.length;
  }

  /** Sweeps leftovers now and every `intervalMs`. Returns the stop function. */
  startLeftoverSweep(intervalMs: number): () => void {
    return everyInterval(() => this.leftovers(), intervalMs, this.#options.logger, "executions' leftovers");
  }
}
