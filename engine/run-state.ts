// A run's record as it goes: each step's status, times and attempts, the artifacts and the
// reports summaries. Every change is told to the observer at once; the record itself is saved
// by whoever observes it (the CLI's run.json, the server's store), never here.
import type { RunObserver } from './events.ts';
import type { Plan, PlannedStep } from './plan.ts';
import type { StepReportSummary } from './reports/types.ts';
import type { RunRecord, StepRecord } from './run-record.ts';
import { abandonedStepStatus, deriveRunStatus } from './status.ts';
import type { StepOutcome } from './step-runner.ts';

export class RunState {
  readonly #plan: Plan;
  readonly #emit: RunObserver;
  readonly #record: RunRecord;
  readonly #steps = new Map<string, StepRecord>();

  /** `rerunOf`: the run a re-run from the failed steps re-runs. */
  constructor(plan: Plan, id: string, backend: string, emit: RunObserver, rerunOf?: string) {
    this.#plan = plan;
    this.#emit = emit;
    for (const step of plan.steps) {
      this.#steps.set(step.name, {
        name: step.name,
        status: 'pending',
        exit_code: null,
        reason: null,
        started_at: null,
        ended_at: null,
        duration_ms: null,
        attempts: 0,
        log: `logs/${step.slug}.log`,
      });
    }
    this.#record = {
      id,
      pipeline: plan.name,
      status: 'running',
      reason: null,
      backend,
      trigger: plan.trigger,
      started_at: new Date().toISOString(),
      ended_at: null,
      duration_ms: null,
      steps: [...this.#steps.values()],
      artifacts: [],
      reports: {},
      ...(rerunOf !== undefined ? { rerun_of: rerunOf } : {}),
    };
  }

  /** Tells observers the run began, with every step pending. */
  announce(): void {
    this.#emit({ type: 'run', run: this.snapshot() });
  }

  /** The step's log file, relative to the run's folder. */
  logOf(step: PlannedStep): string {
    return this.#step(step.name).log;
  }

  /** The step waits for someone's approval; its reason says what they are asked. */
  blockStep(step: PlannedStep, message: string): void {
    this.#update(this.#step(step.name), { status: 'blocked', reason: message });
  }

  /** The step waits for its turn in a concurrency group; the reason says whose turn it is. */
  waitStep(step: PlannedStep, reason: string): void {
    this.#update(this.#step(step.name), { status: 'pending', reason });
  }

  /** The step's gate (or its group) let it through: it waits for a runner slot like any other. */
  unblockStep(step: PlannedStep): void {
    this.#update(this.#step(step.name), { status: 'pending', reason: null });
  }

  attemptStarted(step: PlannedStep, attempt: number): void {
    const current = this.#step(step.name);
    this.#update(current, {
      status: 'running',
      attempts: attempt,
      started_at: current.started_at ?? new Date().toISOString(),
    });
  }

  /** Records how the step ended; a step that never started gets no times. */
  finishStep(step: PlannedStep, outcome: StepOutcome): StepOutcome {
    const current = this.#step(step.name);
    const ended = new Date();
    this.#update(current, {
      status: outcome.status,
      exit_code: outcome.exitCode,
      reason: outcome.reason,
      attempts: outcome.attempts,
      ended_at: current.started_at ? ended.toISOString() : null,
      duration_ms: current.started_at ? ended.getTime() - Date.parse(current.started_at) : null,
    });
    for (const artifact of outcome.artifacts) {
      this.#record.artifacts.push(artifact);
      this.#emit({ type: 'artifact', artifact });
    }
    return outcome;
  }

  skipStep(step: PlannedStep, reason: string): StepOutcome {
    return this.finishStep(step, { status: 'skipped', exitCode: null, reason, attempts: 0, artifacts: [] });
  }

  reportsSummary(step: PlannedStep, summary: StepReportSummary | undefined): void {
    if (summary) this.#record.reports[step.name] = summary;
  }

  /**
   * The run could not go on (setup failed, the engine is unreachable): the engine's fault, so
   * every step that had not ended becomes `error` with the reason, except those the plan skips.
   */
  abandon(reason: string): void {
    this.#record.reason = reason;
    this.#emit({ type: 'notice', message: reason });
    for (const step of this.#plan.steps) {
      const { status } = this.#step(step.name);
      if (status === 'pending' || status === 'blocked' || status === 'running') {
        this.finishStep(step, {
          status: abandonedStepStatus(step.skip),
          exitCode: null,
          reason,
          attempts: 0,
          artifacts: [],
        });
      }
    }
  }

  /** The run's final record, its status derived from its steps; observers hear it last. */
  finish(terminated: boolean): RunRecord {
    const record = this.#record;
    record.status = deriveRunStatus(
      this.#plan.steps.map((s) => {
        const { status } = this.#step(s.name);
        return status === 'failure' && s.allowFailure ? 'success' : status;
      }),
    );
    if (terminated && record.status !== 'error') {
      record.status = 'killed';
      record.reason ??= 'terminated by user';
    }
    const ended = new Date();
    record.ended_at = ended.toISOString();
    record.duration_ms = ended.getTime() - Date.parse(record.started_at);
    const final = this.snapshot();
    this.#emit({ type: 'run', run: final });
    return final;
  }

  snapshot(): RunRecord {
    return structuredClone({ ...this.#record, steps: [...this.#steps.values()] });
  }

  #step(name: string): StepRecord {
    const step = this.#steps.get(name);
    if (!step) throw new Error(`step '${name}' is not in the plan`);
    return step;
  }

  #update(step: StepRecord, patch: Partial<StepRecord>): void {
    Object.assign(step, patch);
    this.#emit({ type: 'step', step: { ...step } });
  }
}
