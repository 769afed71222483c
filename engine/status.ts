// The statuses a step or run can have, the same in the CLI, the store, the API and the pages.
// `blocked` waits for a person to approve it (a pull request from a fork, on the server); it is
// not finished, and unlike `pending` it holds no runner slot while it waits. `reused` is a step
// of a re-run from the failed steps that did not run again: it succeeded in the original run and
// its artifacts were restored into the workspace instead (engine/rerun/); only steps have it.
export const STEP_STATUSES = [
  'pending',
  'blocked',
  'running',
  'success',
  'reused',
  'failure',
  'error',
  'killed',
  'skipped',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
/** A run is never `reused`: its steps are. */
export type RunStatus = Exclude<StepStatus, 'reused'>;
export const RUN_STATUSES: readonly RunStatus[] = STEP_STATUSES.filter(
  (status): status is RunStatus => status !== 'reused',
);

export const FINISHED_STATUSES: ReadonlySet<StepStatus> = new Set([
  'success',
  'reused',
  'failure',
  'error',
  'killed',
  'skipped',
]);

export function isFinished(status: StepStatus): boolean {
  return FINISHED_STATUSES.has(status);
}

/**
 * A run's status follows from its steps: the engine's fault (error) outranks a user's
 * kill, which outranks a step's own failure. Steps that failed with allow_failure count
 * as success for the run (the caller passes them as 'success'), and so do reused steps.
 */
export function deriveRunStatus(steps: readonly StepStatus[]): RunStatus {
  if (steps.some((s) => s === 'running')) return 'running';
  // Nothing runs and someone's approval is awaited: the run waits on them, not on a runner.
  if (steps.some((s) => s === 'blocked')) return 'blocked';
  if (steps.some((s) => s === 'pending')) return steps.some((s) => s !== 'pending') ? 'running' : 'pending';
  if (steps.includes('error')) return 'error';
  if (steps.includes('killed')) return 'killed';
  if (steps.includes('failure')) return 'failure';
  if (steps.length > 0 && steps.every((s) => s === 'skipped')) return 'skipped';
  return 'success';
}

/** Its dependents may start: it succeeded, or succeeded earlier and was reused. */
export function succeeded(status: StepStatus): boolean {
  return status === 'success' || status === 'reused';
}

/**
 * The status of a step its run left pending or running when the engine gave up on the run (its
 * setup failed, or the process running it died): the engine's fault, so `error`, unless the
 * plan skipped the step anyway. After a crash the plan is gone: `plannedSkip` is then unknown.
 */
export function abandonedStepStatus(plannedSkip?: string): StepStatus {
  return plannedSkip === undefined ? 'error' : 'skipped';
}
