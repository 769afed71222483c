// What a re-run from the failed steps reuses of the execution it re-runs: that execution's step
// statuses and artifact records from the store, which of its artifact files are still in its
// folder (retention may have removed them), and the engine's decision per step. The decisions
// are told as notices, so the run page says why each step runs again or not.
import { join } from 'node:path';
import type { Plan } from '../../engine/plan.ts';
import { decideReuse } from '../../engine/rerun/decide.ts';
import { keptArtifacts } from '../../engine/rerun/restore.ts';
import type { ReuseOptions } from '../../engine/rerun/reused-steps.ts';
import type { Store } from '../store/index.ts';
import type { EventBody } from './event-shapes.ts';

export async function reuseFromOriginal(
  store: Pick<Store, 'executions' | 'steps' | 'artifacts'>,
  dataDir: string,
  originalId: string,
  plan: Plan,
  publish: (body: EventBody) => void,
): Promise<ReuseOptions | undefined> {
  const original = await store.executions.get(originalId);
  if (!original) {
    publish({ type: 'notice', message: 'the execution this re-runs is gone: every step runs again' });
    return undefined;
  }
  const [steps, artifacts] = await Promise.all([
    store.steps.list(original.id),
    store.artifacts.list(original.id),
  ]);
  const artifactsDir = join(dataDir, original.logs_dir, 'artifacts');
  const kept = await keptArtifacts(artifactsDir, artifacts);
  const decided = decideReuse(plan, { id: original.id, steps, artifacts }, kept);
  for (const [step, decision] of decided.steps) {
    publish({
      type: 'notice',
      step,
      message: `re-run from the failed steps of #${original.number}: ${decision.action}, ${decision.reason}`,
    });
  }
  return { plan: decided, artifactsDir };
}
