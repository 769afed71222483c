// Runs a compiled plan on a backend: prepares the run directory, sets the run up, schedules
// the steps, records what happened in run.json (with each step's reports summary), and always
// tears the run down.
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type Backend, BackendError, type RunContext } from './backends/types.ts';
import type { RunObserver } from './events.ts';
import { StepLog } from './logs/step-log.ts';
import type { Plan, PlannedStep } from './plan.ts';
import { claimRun, releaseRun } from './recovery.ts';
import { ReportCollector } from './reports/collector.ts';
import { REPORT_PREFIX } from './reports/protocol.ts';
import { StepReports } from './reports/step-reports.ts';
import { newRunId } from './run-id.ts';
import { readRunInputs } from './run-inputs.ts';
import type { RunRecord, StepRecord } from './run-record.ts';
import { schedule } from './scheduler.ts';
import { abandonedStepStatus, deriveRunStatus } from './status.ts';
import { runStep, type StepOutcome } from './step-runner.ts';

export interface RunOptions {
  backend: Backend;
  /** Folder that holds one sub-folder per run (`.gbcms/runs`). */
  runsDir: string;
  id?: string;
  secrets?: Record<string, string>;
  /** Variables every step gets, on top of the engine's own (CI, GBCMS_RUN_ID, ...). */
  env?: Record<string, string>;
  /** Steps running at once; default: the number of cores. */
  concurrency?: number;
  graceMs?: number;
  maxLogBytes?: number;
  signal?: AbortSignal;
  observer?: RunObserver;
}

const DEFAULT_GRACE_MS = 10_000;

export async function runPipeline(plan: Plan, options: RunOptions): Promise<RunRecord> {
  const id = options.id ?? newRunId();
  const dir = join(options.runsDir, id);
  await mkdir(join(dir, 'logs'), { recursive: true });
  await mkdir(join(dir, 'artifacts'), { recursive: true });
  await claimRun(dir);
  const emit: RunObserver = options.observer ?? (() => undefined);
  const signal = options.signal ?? new AbortController().signal;

  const steps = new Map<string, StepRecord>(
    plan.steps.map((s) => [
      s.name,
      {
        name: s.name,
        status: 'pending',
        exit_code: null,
        reason: null,
        started_at: null,
        ended_at: null,
        duration_ms: null,
        attempts: 0,
        log: `logs/${s.slug}.log`,
      },
    ]),
  );
  const record: RunRecord = {
    id,
    pipeline: plan.name,
    status: 'running',
    reason: null,
    backend: options.backend.name,
    trigger: plan.trigger,
    started_at: new Date().toISOString(),
    ended_at: null,
    duration_ms: null,
    steps: [...steps.values()],
    artifacts: [],
    reports: {},
  };
  const run: RunContext = {
    id,
    plan,
    dir,
    secrets: options.secrets ?? {},
    env: { CI: 'true', GBCMS: 'true', GBCMS_RUN_ID: id, ...runTriggerEnv(plan), ...options.env },
    notice: (message, step) => emit({ type: 'notice', message, step }),
    environment: (step, { containerId, image }) =>
      emit({ type: 'environment', step, container_id: containerId, image }),
  };
  await saveRecord(dir, record);
  emit({ type: 'run', run: structuredClone(record) });

  // run.json follows step changes (not log lines), so a crash leaves an honest record behind;
  // writes go one after another so an older state never lands last.
  let saving = Promise.resolve();
  const saveProgress = () => {
    const snapshot: RunRecord = { ...record, steps: [...steps.values()].map((step) => ({ ...step })) };
    saving = saving.then(() => saveRecord(dir, snapshot)).catch(() => undefined);
  };
  const updateStep = (name: string, patch: Partial<StepRecord>) => {
    const step = steps.get(name)!;
    const statusChanged = patch.status !== undefined && patch.status !== step.status;
    Object.assign(step, patch);
    emit({ type: 'step', step: { ...step } });
    if (statusChanged) saveProgress();
  };
  const finishStep = (step: PlannedStep, outcome: StepOutcome): StepOutcome => {
    const current = steps.get(step.name)!;
    const ended = new Date();
    updateStep(step.name, {
      status: outcome.status,
      exit_code: outcome.exitCode,
      reason: outcome.reason,
      attempts: outcome.attempts,
      ended_at: current.started_at ? ended.toISOString() : null,
      duration_ms: current.started_at ? ended.getTime() - Date.parse(current.started_at) : null,
    });
    for (const artifact of outcome.artifacts) {
      record.artifacts.push(artifact);
      emit({ type: 'artifact', artifact });
    }
    return outcome;
  };
  const closeReports = async (reports: StepReports, name: string) => {
    try {
      await reports.close();
    } catch (error) {
      emit({
        type: 'notice',
        step: name,
        message: `could not store the step's reports: ${errorText(error)}`,
      });
    }
    const summary = reports.summary();
    if (summary) record.reports[name] = summary;
  };
  const skipStep = (step: PlannedStep, reason: string): StepOutcome =>
    finishStep(step, { status: 'skipped', exitCode: null, reason, attempts: 0, artifacts: [] });

  try {
    await options.backend.setupRun(run, await readRunInputs(plan, run.notice));
    await schedule(plan.steps, {
      concurrency: options.concurrency ?? availableParallelism(),
      signal,
      skipStep,
      runStep: async (step) => {
        // Report lines are parsed once masked; valid ones are flagged in the file and for observers.
        let reports: StepReports | undefined;
        const log = new StepLog({
          file: join(dir, steps.get(step.name)!.log),
          secrets: step.secrets.map((name) => run.secrets[name] ?? '').filter((v) => v !== ''),
          maxBytes: options.maxLogBytes,
          reports: { prefix: REPORT_PREFIX, classify: (line) => reports?.inspectLine(line) ?? false },
        });
        const { slug } = step;
        reports = new StepReports({
          file: join(dir, 'reports', `${slug}.jsonl`),
          log,
          emit: (report) => emit({ type: 'report', step: step.name, report }),
        });
        const unsubscribe = log.subscribe((line) => emit({ type: 'log', step: step.name, line }));
        try {
          const outcome = await runStep(step, {
            backend: options.backend,
            run,
            log,
            runSignal: signal,
            graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
            artifactsDir: join(dir, 'artifacts', slug),
            artifactsPrefix: slug,
            reports: new ReportCollector({ backend: options.backend, step, run, reports, log }),
            onAttemptStart: (attempt) =>
              updateStep(step.name, {
                status: 'running',
                attempts: attempt,
                started_at: steps.get(step.name)!.started_at ?? new Date().toISOString(),
              }),
          });
          await log.close();
          await closeReports(reports, step.name);
          return finishStep(step, outcome);
        } finally {
          unsubscribe();
          // Already closed unless the step runner itself failed; then the file is still let go.
          await reports.close().catch(() => undefined);
        }
      },
    });
  } catch (error) {
    // Setup failed (image missing, engine unreachable): the engine's fault, so every step
    // that had not ended becomes `error` with the reason.
    const reason = error instanceof BackendError ? error.message : `engine error: ${errorText(error)}`;
    record.reason = reason;
    emit({ type: 'notice', message: reason });
    for (const step of plan.steps) {
      const current = steps.get(step.name)!;
      if (current.status === 'pending' || current.status === 'running') {
        finishStep(step, {
          status: abandonedStepStatus(step.skip),
          exitCode: null,
          reason,
          attempts: 0,
          artifacts: [],
        });
      }
    }
  } finally {
    try {
      await options.backend.destroyRun(run.id);
    } catch (error) {
      emit({ type: 'notice', message: `could not remove the run's resources: ${errorText(error)}` });
    }
  }

  const ended = new Date();
  record.status = deriveRunStatus(
    plan.steps.map((s) => {
      const status = steps.get(s.name)!.status;
      return status === 'failure' && s.allowFailure ? 'success' : status;
    }),
  );
  if (signal.aborted && record.status !== 'error') {
    record.status = 'killed';
    record.reason ??= 'terminated by user';
  }
  record.ended_at = ended.toISOString();
  record.duration_ms = ended.getTime() - Date.parse(record.started_at);
  record.steps = [...steps.values()];
  await saving;
  await saveRecord(dir, record);
  await releaseRun(dir);
  emit({ type: 'run', run: structuredClone(record) });
  return record;
}

function runTriggerEnv(plan: Plan): Record<string, string> {
  const { trigger } = plan;
  const env: Record<string, string> = { GBCMS_EVENT: trigger.event, GBCMS_PIPELINE: plan.name };
  if (trigger.branch) env.GBCMS_BRANCH = trigger.branch;
  if (trigger.tag) env.GBCMS_TAG = trigger.tag;
  if (trigger.commit) env.GBCMS_COMMIT = trigger.commit;
  return env;
}

async function saveRecord(dir: string, record: RunRecord): Promise<void> {
  await writeFile(join(dir, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
