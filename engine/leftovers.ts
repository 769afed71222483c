// Retrying cleanups that could not reach the engine. When a run ends while the Docker daemon is
// stopping or restarting, its destroyRun fails and its workspace volume (and containers) stay.
// Nothing remembers that in a process that may be gone by the time the daemon answers again, so
// the leftovers are found again from the backend itself (by label, by folder name) and removed
// for runs that are over. What "over" means is the caller's: the CLI asks its runs folder
// (engine/recovery.ts), the server its store.
import type { Backend } from './backends/types.ts';

export interface LeftoverSweep {
  /** Runs whose resources were removed. */
  removed: string[];
  /** Runs whose removal failed again, with why: they are tried at the next sweep. */
  failed: Array<{ id: string; reason: string }>;
}

/**
 * Removes the resources of every leftover run for which `isOver(id)` holds. Never rejects for a
 * single run: a run whose removal fails is listed in `failed`. Rejects only when the backend
 * cannot even be asked what is left (the engine is still unreachable).
 */
export async function sweepLeftovers(
  backend: Backend,
  isOver: (runId: string) => Promise<boolean> | boolean,
): Promise<LeftoverSweep> {
  const sweep: LeftoverSweep = { removed: [], failed: [] };
  for (const id of await backend.leftoverRuns()) {
    if (!(await isOver(id))) continue;
    try {
      await backend.destroyRun(id);
      sweep.removed.push(id);
    } catch (error) {
      sweep.failed.push({ id, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return sweep;
}
