// What a run reads from the project before its backend sets it up: the workspace's files and
// the keys of the steps' caches. Read here, once, so every backend starts from the same list
// and the same keys, and none of them reads the project on its own.
import type { RunInputs, StepCache } from './backends/types.ts';
import { CacheKeyFileError, repositoryCacheScope, resolveStepCaches } from './cache.ts';
import type { Plan } from './plan.ts';
import { listWorkspaceFiles } from './workspace.ts';

/**
 * `notice` hears of each missing cache key file, with the step it belongs to. `cacheScope`
 * says whose caches these are (RunOptions.cacheScope); default: the repository's.
 */
export async function readRunInputs(
  plan: Plan,
  notice: (message: string, step?: string) => void,
  cacheScope?: string,
): Promise<RunInputs> {
  const steps = plan.steps.filter((step) => step.skip === undefined);
  // A run whose every step is skipped never needs its files (nor a workspace that exists).
  const workspaceFiles = steps.length === 0 ? [] : await listWorkspaceFiles(plan.workspace);
  const caches = new Map<string, StepCache[]>();
  const refusals = new Map<string, string>();
  const withCaches = steps.filter((step) => step.cache !== undefined);
  if (withCaches.length === 0) return { workspaceFiles, caches, refusals };
  const scope = cacheScope ?? (await repositoryCacheScope(plan.workspace));
  for (const step of withCaches) {
    try {
      caches.set(
        step.name,
        await resolveStepCaches(plan, step, scope, (message) => notice(message, step.name)),
      );
    } catch (error) {
      if (!(error instanceof CacheKeyFileError)) throw error;
      refusals.set(step.name, error.message);
    }
  }
  return { workspaceFiles, caches, refusals };
}
