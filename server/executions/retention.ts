// Old executions go: their rows (with steps, environments, artifacts) and their folders. The
// same periodic sweep removes caches (cache-sweep.ts).
import { rm } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { Store } from '../store/index.ts';
import type { ExecutionLogger } from './logger.ts';

/** Deletes finished executions created before `olderThan`, rows and folders. Returns how many. */
export async function removeOldExecutions(
  store: Pick<Store, 'executions'>,
  dataDir: string,
  olderThan: Date,
  logger: ExecutionLogger,
): Promise<number> {
  const folders = await store.executions.deleteOlderThan(olderThan);
  const root = resolve(dataDir);
  for (const folder of folders) {
    const path = resolve(root, folder);
    // logs_dir comes from the database: never remove anything outside the data directory.
    if (!path.startsWith(root + sep)) {
      logger.warn({ folder }, 'not removing an execution folder outside the data directory');
      continue;
    }
    await rm(path, { recursive: true, force: true }).catch((error: unknown) =>
      logger.warn({ err: error, folder }, 'could not remove an execution folder'),
    );
  }
  return folders.length;
}

/**
 * Runs `sweep` now and every `intervalMs`, never two at once; the timer does not keep the
 * process alive. `what` names what the sweep removes, for the log. Returns the stop function.
 */
export function everyInterval(
  sweep: () => Promise<number>,
  intervalMs: number,
  logger: ExecutionLogger,
  what = 'old executions',
): () => void {
  let sweeping = false;
  const run = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const removed = await sweep();
      if (removed > 0) logger.info({ removed }, `removed ${what}`);
    } catch (error) {
      logger.error({ err: error }, `sweep of ${what} failed`);
    } finally {
      sweeping = false;
    }
  };
  void run();
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
