// Runs a compiled plan on a backend: prepares the run directory, sets the run up, schedules
// the steps and always tears the run down. What happened is told to the observer as it
// happens and returned as the run's record; saving it is the observer's business.
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type ApprovalAsker, NOBODY_ASKED, passGate, WAITING_FOR_APPROVAL } from './approval.ts';
import { type Backend, BackendError, type PreparedStep, type RunContext } from './backends/types.ts';
import { ConcurrencyGroups, type GroupMember, waitingFor } from './concurrency-groups.ts';
import type { RunObserver } from './events.ts';
import type { Plan, PlannedStep } from './plan.ts';
import { ReusedSteps, type ReuseOptions } from './rerun/reused-steps.ts';
import { newRunId } from './run-id.ts';
import { readRunInputs } from './run-inputs.ts';
import type { RunRecord } from './run-record.ts';
import { RunState } from './run-state.ts';
import { schedule } from './scheduler.ts';
import { runStep, type StepOutcome } from './step-runner.ts';
import { openStepSinks } from './step-sinks.ts';

export interface RunOptions {
  backend: Backend;
  /** Folder that holds one sub-folder per run (`.gbcms/runs`). */
  runsDir: string;
  id?: string;
  secrets?: Record<string, string>;
  /** Secrets refused to this run, with why: a step naming one ends `error` with that reason. */
  secretRefusals?: Record<string, string>;
  /**
   * Whose caches the run reads and writes: runs of one scope share caches, runs of two never
   * do. The server gives a project's id and trust tier; default: the repository's real path
   * (engine/cache.ts repositoryCacheScope).
   */
  cacheScope?: string;
  /** Variables every step gets, on top of the engine's own (CI, GBCMS_RUN_ID, ...). */
  env?: Record<string, string>;
  /** Steps running at once; default: the number of cores. */
  concurrency?: number;
  graceMs?: number;
  maxLogBytes?: number;
  signal?: AbortSignal;
  observer?: RunObserver;
  /**
   * Decides a gated step's approval (the CLI asks in the terminal, the server its users).
   * Default: nobody can approve, so gated steps are skipped.
   */
  approvals?: ApprovalAsker;
  /**
   * A re-run from the failed steps (engine/rerun/): the steps it reuses end `reused` without
   * running, their artifacts restored into the workspace before any step starts.
   */
  reuse?: ReuseOptions;
  /**
   * Where steps with a concurrency group wait for their turn. Default: this run's own groups, so
   * a step's matrix combinations take turns; the server shares one across a project's runs.
   */
  stepGroups?: StepGroups;
}

export interface StepGroups {
  groups: ConcurrencyGroups;
  /** The key of a group in `groups` (the server adds the project). */
  key(group: string): string;
  /** The step as a member: its age orders it against the other runs' steps. */
  member(step: PlannedStep): GroupMember;
}

/** A run's own step groups: every step is as old as the others, so none cancels another. */
function runOwnGroups(): StepGroups {
  return {
    groups: new ConcurrencyGroups(),
    key: (group) => group,
    member: (step) => ({ age: 0, label: `step '${step.name}'` }),
  };
}

const DEFAULT_GRACE_MS = 10_000;

export async function runPipeline(plan: Plan, options: RunOptions): Promise<RunRecord> {
  const id = options.id ?? newRunId();
  const dir = join(options.runsDir, id);
  await mkdir(join(dir, 'logs'), { recursive: true });
  await mkdir(join(dir, 'artifacts'), { recursive: true });
  const emit: RunObserver = options.observer ?? (() => undefined);
  const signal = options.signal ?? new AbortController().signal;
  const { backend } = options;
  const state = new RunState(plan, id, backend.name, emit, options.reuse?.plan.from);
  const reused = new ReusedSteps(options.reuse);
  const run: RunContext = {
    id,
    plan: reused.backendPlan(plan),
    dir,
    secrets: options.secrets ?? {},
    secretRefusals: options.secretRefusals ?? {},
    env: { CI: 'true', GBCMS: 'true', GBCMS_RUN_ID: id, ...runTriggerEnv(plan), ...options.env },
    notice: (message, step) => emit({ type: 'notice', message, step }),
    environment: (step, { containerId, image }) =>
      emit({ type: 'environment', step, container_id: containerId, image }),
  };
  state.announce();

  let refusals = new Map<string, string>();
  const stepGroups = options.stepGroups ?? runOwnGroups();
  const runOneStep = async (
    step: PlannedStep,
    prepared?: Promise<PreparedStep | undefined>,
    cancelled?: AbortSignal,
  ): Promise<StepOutcome> => {
    const sinks = openStepSinks(step, {
      backend,
      run,
      logFile: state.logOf(step),
      maxLogBytes: options.maxLogBytes,
      emit,
    });
    try {
      const outcome = await runStep(step, {
        backend,
        run,
        log: sinks.log,
        runSignal: signal,
        cancelled,
        graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
        artifactsDir: join(dir, 'artifacts', step.slug),
        artifactsPrefix: step.slug,
        reports: sinks.collector,
        onAttemptStart: (attempt) => state.attemptStarted(step, attempt),
        refusal: refusals.get(step.name),
        prepared,
      });
      state.reportsSummary(step, await sinks.close());
      return state.finishStep(step, outcome);
    } finally {
      // Already closed unless the step runner itself failed; then the files are still let go.
      await sinks.close().catch(() => undefined);
    }
  };

  const reuseOneStep = async (step: PlannedStep): Promise<StepOutcome> => {
    const { reason, artifacts } = await reused.reuse(step, join(dir, 'artifacts'));
    return state.finishStep(step, { status: 'reused', exitCode: null, reason, attempts: 0, artifacts });
  };

  try {
    const inputs = await readRunInputs(run.plan, run.notice, options.cacheScope);
    refusals = inputs.refusals;
    for (const [step, caches] of inputs.caches) {
      for (const cache of caches) emit({ type: 'cache', step, cache });
    }
    const unstage = await reused.stage(run, inputs);
    try {
      await backend.setupRun(run, inputs);
    } finally {
      await unstage();
    }
    await schedule(plan.steps, {
      concurrency: options.concurrency ?? availableParallelism(),
      signal,
      skipStep: (step, reason) => state.skipStep(step, reason),
      runStep: (step, prepared, cancelled) =>
        reused.has(step) ? reuseOneStep(step) : runOneStep(step, prepared, cancelled),
      // A reused step does not start either: nothing to prepare for it.
      prepareStep: preparer(backend, run, (step) => refusals.has(step.name) || reused.has(step)),
      killStep: (step, reason) =>
        state.finishStep(step, { status: 'killed', exitCode: null, reason, attempts: 0, artifacts: [] }),
      enterGroup: async (step) => {
        const { group, cancelInProgress } = step.concurrency!;
        let waited = false;
        const entry = await stepGroups.groups.enter(stepGroups.key(group), group, stepGroups.member(step), {
          cancelInProgress,
          signal,
          waiting: (holder) => {
            waited = true;
            state.waitStep(step, waitingFor(holder, group));
          },
        });
        if (waited && 'lease' in entry) state.unblockStep(step);
        return entry;
      },
      passGate: async (step) => {
        // A reused step does not run: there is nothing to approve.
        if (!step.approval || reused.has(step)) return undefined;
        state.blockStep(step, step.approval.message ?? WAITING_FOR_APPROVAL);
        const passed = await passGate(step, step.approval, options.approvals ?? NOBODY_ASKED, signal);
        if ('skip' in passed) return passed.skip;
        state.unblockStep(step);
        emit({
          type: 'notice',
          step: step.name,
          message: `approved${passed.approvedBy ? ` by ${passed.approvedBy}` : ''}`,
        });
        return undefined;
      },
    });
  } catch (error) {
    state.abandon(error instanceof BackendError ? error.message : `engine error: ${errorText(error)}`);
  } finally {
    try {
      await backend.destroyRun(run.id);
    } catch (error) {
      // Left for a later sweep (the next `gbcms run`, the server's leftover sweep) to retry.
      emit({
        type: 'notice',
        message: `could not remove the run's resources (they are removed later): ${errorText(error)}`,
      });
    }
  }
  return state.finish(signal.aborted);
}

/** Steps that will not start (refused, reused) are not prepared either. */
function preparer(
  backend: Backend,
  run: RunContext,
  wontStart: (step: PlannedStep) => boolean,
): ((step: PlannedStep) => Promise<PreparedStep | undefined>) | undefined {
  if (!backend.prepareStep) return undefined;
  return async (step) => (wontStart(step) ? undefined : backend.prepareStep?.(step, run));
}

function runTriggerEnv(plan: Plan): Record<string, string> {
  const { trigger } = plan;
  const env: Record<string, string> = { GBCMS_EVENT: trigger.event, GBCMS_PIPELINE: plan.name };
  if (trigger.branch) env.GBCMS_BRANCH = trigger.branch;
  if (trigger.tag) env.GBCMS_TAG = trigger.tag;
  if (trigger.commit) env.GBCMS_COMMIT = trigger.commit;
  return env;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
