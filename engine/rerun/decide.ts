// Which steps a re-run from the failed steps runs again, and which it reuses. Pure: the original
// run's step statuses and artifact records, the new plan, and which of those artifact files are
// still kept go in; one decision per step comes out, with the reason `gbcms plan --from-failed`
// shows. The I/O (reading the original, restoring files) lives in restore.ts and the callers.
//
// The rule: a step is reused when it succeeded, declares artifacts, every artifact it declares
// was collected and is still kept, and every step it depends on is reused too. The workspace is
// shared, so what a step leaves there for its dependents is known only through what it declares:
// a step without artifacts, or after a dependency that runs again, cannot be trusted to have
// left what its dependents need, so it runs again.
import type { ArtifactRecord } from '../backends/types.ts';
import type { ArtifactSpec, Plan, PlannedStep } from '../plan.ts';
import { type StepStatus, succeeded } from '../status.ts';

export interface OriginalRun {
  /** The run (or execution) id: reused steps name it. */
  id: string;
  steps: readonly { name: string; status: StepStatus }[];
  /** As recorded: paths relative to the original's artifacts folder (`<step-slug>/...`). */
  artifacts: readonly ArtifactRecord[];
}

/** One artifact file to put back: where it is kept in the original, where it goes in the workspace. */
export interface RestoredFile {
  artifact: ArtifactRecord;
  /** Workspace-relative posix path. */
  workspacePath: string;
}

export type StepDecision =
  | { action: 'reuse'; reason: string; restore: RestoredFile[] }
  | { action: 'run'; reason: string };

export interface ReusePlan {
  /** The original run's id. */
  from: string;
  /** Every step of the plan, by name. */
  steps: Map<string, StepDecision>;
}

/** Statuses a re-run from the failed steps runs again whatever else holds. */
const RUN_AGAIN: Partial<Record<StepStatus, string>> = {
  failure: 'failed',
  error: 'ended with an error',
  killed: 'was killed',
  skipped: 'was skipped',
};

/** Whether the original run has anything a re-run from the failed steps would run again. */
export function hasFailedSteps(original: { steps: readonly { status: StepStatus }[] }): boolean {
  return original.steps.some((step) => RUN_AGAIN[step.status] !== undefined);
}

/**
 * One decision per step of `plan` (in its topological order). `kept` holds the paths of the
 * original's artifact files still there to restore (retention may have removed some).
 */
export function decideReuse(plan: Plan, original: OriginalRun, kept: ReadonlySet<string>): ReusePlan {
  const statuses = new Map(original.steps.map((step) => [step.name, step.status]));
  const decisions = new Map<string, StepDecision>();
  for (const step of plan.steps) {
    decisions.set(step.name, decideStep(step, statuses.get(step.name), original, kept, decisions));
  }
  return { from: original.id, steps: decisions };
}

function decideStep(
  step: PlannedStep,
  status: StepStatus | undefined,
  original: OriginalRun,
  kept: ReadonlySet<string>,
  earlier: ReadonlyMap<string, StepDecision>,
): StepDecision {
  if (status === undefined) return run('is not in the original run');
  const again = RUN_AGAIN[status];
  if (again !== undefined) return run(again);
  if (!succeeded(status)) return run(`did not finish (${status})`);
  if (step.skip !== undefined) return run(`succeeded, but this trigger skips it: ${step.skip}`);
  if (step.artifacts.length === 0) {
    return run('succeeded but declares no artifacts, so its workspace changes cannot be restored');
  }
  const rerunDependency = step.dependsOn.find((name) => earlier.get(name)?.action !== 'reuse');
  if (rerunDependency !== undefined) {
    return run(`succeeded, but it depends on '${rerunDependency}', which runs again`);
  }
  const records = original.artifacts.filter((artifact) => artifact.step === step.name);
  const restore: RestoredFile[] = [];
  for (const spec of step.artifacts) {
    const files = records.flatMap((artifact) => {
      const workspacePath = workspacePathOf(step, spec, artifact);
      return workspacePath === undefined ? [] : [{ artifact, workspacePath }];
    });
    if (files.length === 0) {
      return run(`succeeded, but its artifact '${spec.path}' was not collected, so it cannot be restored`);
    }
    const gone = files.find((file) => !kept.has(file.artifact.path));
    if (gone !== undefined) {
      return run(
        `succeeded, but its artifacts are no longer kept (${gone.artifact.path} was removed, by retention or by hand)`,
      );
    }
    restore.push(...files);
  }
  const paths = step.artifacts.map((spec) => spec.path).join(', ');
  return { action: 'reuse', reason: `succeeded, its artifacts ${paths} are restored`, restore };
}

function run(reason: string): StepDecision {
  return { action: 'run', reason };
}

/**
 * Where an artifact file of `spec` came from in the workspace: `<slug>/<dest>/x` was collected
 * from `<path>/x` (engine/artifacts/collect.ts). Undefined when it is not one of `spec`'s files.
 */
function workspacePathOf(
  step: PlannedStep,
  spec: ArtifactSpec,
  artifact: ArtifactRecord,
): string | undefined {
  const prefix = `${step.slug}/`;
  if (!artifact.path.startsWith(prefix)) return undefined;
  const collected = artifact.path.slice(prefix.length);
  if (collected === spec.dest) return spec.path;
  if (!collected.startsWith(`${spec.dest}/`)) return undefined;
  return `${spec.path}${collected.slice(spec.dest.length)}`;
}

/** The steps a re-run reuses, with what each restores. */
export function reusedSteps(plan: ReusePlan): Map<string, RestoredFile[]> {
  const reused = new Map<string, RestoredFile[]>();
  for (const [name, decision] of plan.steps) {
    if (decision.action === 'reuse') reused.set(name, decision.restore);
  }
  return reused;
}
