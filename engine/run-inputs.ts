// What a run reads from the project before its backend sets it up: the workspace's files and
// the keys of the steps' caches. Read here, once, so every backend starts from the same list
// and the same keys, and none of them reads the project on its own.
import type { RunInputs, StepCache } from './backends/types.ts';
import { resolveStepCaches } from './cache.ts';
import type { Plan } from './plan.ts';
import { listWorkspaceFiles } from './workspace.ts';

/** `notice` hears of each missing cache key file, with the step it belongs to. */
export async function readRunInputs(
  plan: Plan,
  notice: (message: string, step?: string) => void,
): Promise<RunInputs> {
  const steps = plan.steps.filter((step) => step.skip === undefined);
  // A run whose every step is skipped never needs its files (nor a workspace that exists).
  const workspaceFiles = steps.length === 0 ? [] : await listWorkspaceFiles(plan.workspace);
  const caches = new Map<string, StepCache[]>();
  for (const step of steps) {
    if (step.cache === undefined) continue;
    caches.set(step.name, await resolveStepCaches(plan, step, (message) => notice(message, step.name)));
  }
  return { workspaceFiles, caches };
}
