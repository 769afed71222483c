// DAG readiness on top of a p-queue: a step is queued once everything it depends on has
// ended, runs when the queue has room, and is skipped when a dependency did not succeed
// or the run was terminated. A gated step first waits for its approval, a step in a
// concurrency group for its turn. The queue bounds how many steps run at once.
// A step whose dependencies run may be prepared ahead (warm-steps.ts), as many as may run.
import PQueue from 'p-queue';
import type { PreparedStep } from './backends/types.ts';
import type { Entry } from './concurrency-groups.ts';
import type { PlannedStep } from './plan.ts';
import { succeeded } from './status.ts';
import type { StepOutcome } from './step-runner.ts';
import { type PrepareStep, WarmSteps } from './warm-steps.ts';

export interface ScheduleOptions {
  concurrency: number;
  signal: AbortSignal;
  /**
   * `prepared`: what prepareStep made ready for the step; the step runner releases or discards
   * it. `cancelled`: aborted when a newer member of the step's concurrency group cancels it.
   */
  runStep(
    step: PlannedStep,
    prepared?: Promise<PreparedStep | undefined>,
    cancelled?: AbortSignal,
  ): Promise<StepOutcome>;
  /** Starts a step's environment ahead of its turn; absent when the backend cannot. */
  prepareStep?: PrepareStep;
  skipStep(step: PlannedStep, reason: string): StepOutcome;
  /** A step that never started ends `killed`: a newer member of its group cancelled it. */
  killStep(step: PlannedStep, reason: string): StepOutcome;
  /** Waits for the turn of a step that has a concurrency group. */
  enterGroup(step: PlannedStep): Promise<Entry>;
  /** Waits at a gated step's approval gate: undefined to start it, or why it is skipped. */
  passGate(step: PlannedStep): Promise<string | undefined>;
}

/** A dependency lets its dependents go on when it succeeded (or was reused), or failed but may fail. */
function letsDependentsRun(step: PlannedStep, outcome: StepOutcome): boolean {
  return succeeded(outcome.status) || (outcome.status === 'failure' && step.allowFailure);
}

/** Runs `steps` (in topological order) and resolves with every step's outcome. */
export async function schedule(
  steps: readonly PlannedStep[],
  options: ScheduleOptions,
): Promise<Map<string, StepOutcome>> {
  const queue = new PQueue({ concurrency: Math.max(1, options.concurrency) });
  const byName = new Map(steps.map((s) => [s.name, s]));
  const outcomes = new Map<string, Promise<StepOutcome>>();
  const warm = new WarmSteps(steps, Math.max(1, options.concurrency), options.prepareStep, options.signal);
  // A step that will not run gives back what was prepared for it.
  const skipStep = (step: PlannedStep, reason: string) => {
    warm.drop(step);
    return options.skipStep(step, reason);
  };
  const killStep = (step: PlannedStep, reason: string) => {
    warm.drop(step);
    return options.killStep(step, reason);
  };

  for (const step of steps) {
    const deps = step.dependsOn.map((name) => {
      const dep = outcomes.get(name);
      if (!dep) throw new Error(`step '${step.name}' depends on '${name}', which is not earlier in the plan`);
      return dep.then((outcome) => ({ name, outcome }));
    });
    const outcome = Promise.all(deps).then(async (results): Promise<StepOutcome> => {
      if (step.skip) return skipStep(step, step.skip);
      const blocker = results.find(({ name, outcome }) => !letsDependentsRun(byName.get(name)!, outcome));
      if (blocker) {
        const reason =
          blocker.outcome.status === 'skipped'
            ? `depends on skipped step '${blocker.name}'`
            : `depends on '${blocker.name}', which ended with ${blocker.outcome.status}`;
        return skipStep(step, reason);
      }
      if (options.signal.aborted) return skipStep(step, 'run was terminated');
      // Waits outside the queue: a step waiting for a person holds no runner slot.
      const declined = step.approval ? await options.passGate(step) : undefined;
      if (declined !== undefined) return skipStep(step, declined);
      // Also outside the queue, for the same reason: waiting for its turn is not running.
      const entry = step.concurrency ? await options.enterGroup(step) : undefined;
      if (entry && 'cancelled' in entry) {
        return options.signal.aborted
          ? skipStep(step, 'run was terminated')
          : killStep(step, entry.cancelled);
      }
      const lease = entry?.lease;
      try {
        const result = await queue.add(() => {
          if (options.signal.aborted) return skipStep(step, 'run was terminated');
          const prepared = warm.take(step);
          warm.running(step);
          return options.runStep(step, prepared, lease?.cancelled);
        });
        if (!result) throw new Error(`step '${step.name}' produced no outcome`);
        return result;
      } finally {
        lease?.release();
      }
    });
    outcomes.set(step.name, outcome);
  }

  const settled = new Map<string, StepOutcome>();
  try {
    for (const [name, outcome] of outcomes) settled.set(name, await outcome);
  } finally {
    await warm.settled();
  }
  return settled;
}
