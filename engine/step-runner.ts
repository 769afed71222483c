// Runs one step to its end on a backend: attempts with retries, the timeout, cancellation,
// output into the step's log, artifacts out, and the step's resources removed whatever happened.
import { collectArtifacts } from './artifacts/collect.ts';
import {
  type ArtifactRecord,
  type Backend,
  BackendError,
  type OutputChunk,
  type PreparedStep,
  type RunContext,
} from './backends/types.ts';
import { formatDuration } from './config/units.ts';
import { formatBytes } from './logs/log-line.ts';
import { MIN_SECRET_LENGTH } from './logs/masker.ts';
import { NoSpaceWatch } from './logs/no-space.ts';
import type { StepLog } from './logs/step-log.ts';
import type { PlannedStep } from './plan.ts';
import type { StepReporting } from './reports/collector.ts';
import type { StepStatus } from './status.ts';

export interface StepOutcome {
  status: StepStatus;
  exitCode: number | null;
  reason: string | null;
  attempts: number;
  artifacts: ArtifactRecord[];
}

export interface StepRunContext {
  backend: Backend;
  run: RunContext;
  log: StepLog;
  /** Aborted when the whole run is terminated. */
  runSignal: AbortSignal;
  /**
   * Aborted, with the message as its reason, when a newer member of the step's concurrency
   * group cancels it: the step ends `killed` with that reason.
   */
  cancelled?: AbortSignal | undefined;
  /** Time between SIGTERM and SIGKILL when a step is stopped. */
  graceMs: number;
  /** This step's own artifact folder, and its name below the run's artifacts folder. */
  artifactsDir: string;
  artifactsPrefix: string;
  /** Bytes all the step's artifacts may hold together; default 1 GiB. */
  artifactMaxBytes?: number;
  /** Called when an attempt starts, so observers can show the step running. */
  onAttemptStart(attempt: number): void;
  /** Why the step may not start (RunInputs.refusals): it ends `error` with this reason. */
  refusal?: string | undefined;
  /** Follows the step's reports file and reads its JUnit report, while its resources exist. */
  reports?: StepReporting;
  /**
   * The first attempt's environment, started ahead of its turn (Backend.prepareStep): released
   * instead of a startStep, or discarded when the step does not start.
   */
  prepared?: Promise<PreparedStep | undefined> | undefined;
}

/** How long output may keep draining after the process ended before we stop waiting for it. */
const OUTPUT_DRAIN_MS = 5000;

export function secretProblem(
  step: PlannedStep,
  secrets: Record<string, string>,
  refusals: Record<string, string> = {},
): string | undefined {
  for (const name of step.secrets) {
    const refusal = refusals[name];
    if (refusal !== undefined) return refusal;
    const value = secrets[name];
    if (value === undefined) return `secret ${name} is not set`;
    // A value this short would mask half the log; refusing it is kinder than garbling output.
    if (value.length < MIN_SECRET_LENGTH) {
      return `secret ${name} is ${value.length} characters long; values of 3 characters or fewer cannot be masked reliably`;
    }
  }
  return undefined;
}

export async function runStep(step: PlannedStep, ctx: StepRunContext): Promise<StepOutcome> {
  const problem = ctx.refusal ?? secretProblem(step, ctx.run.secrets, ctx.run.secretRefusals);
  if (problem) {
    await discardQuietly(ctx.prepared);
    ctx.log.system(`error: ${problem}`);
    return { status: 'error', exitCode: null, reason: problem, attempts: 0, artifacts: [] };
  }
  let attempt = 0;
  let outcome: Omit<StepOutcome, 'attempts' | 'artifacts'>;
  let started = false;
  for (;;) {
    attempt += 1;
    ctx.onAttemptStart(attempt);
    if (attempt > 1) ctx.log.system(`retrying: attempt ${attempt} of ${step.retries + 1}`);
    const result = await runAttempt(step, ctx, attempt === 1 ? ctx.prepared : undefined);
    // A retry's output must not continue the previous attempt's last line.
    ctx.log.endLines();
    outcome = result.outcome;
    started ||= result.started;
    const retry =
      outcome.status === 'failure' &&
      attempt <= step.retries &&
      !ctx.runSignal.aborted &&
      !ctx.cancelled?.aborted;
    if (!retry) break;
    ctx.log.system(`attempt ${attempt} failed: ${outcome.reason}`);
    await destroyQuietly(step, ctx);
  }
  let artifacts: ArtifactRecord[] = [];
  try {
    if (started) await ctx.reports?.stepEnded(outcome.status);
    if (started && step.artifacts.length > 0 && outcome.status !== 'killed' && outcome.status !== 'error') {
      artifacts = await collectStepArtifacts(step, ctx);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    ctx.log.system(`artifact collection failed: ${message}`);
    if (outcome.status === 'success') {
      outcome = {
        status: 'failure',
        exitCode: outcome.exitCode,
        reason: `artifact collection failed: ${message}`,
      };
    }
  } finally {
    await destroyQuietly(step, ctx);
  }
  return { ...outcome, attempts: attempt, artifacts };
}

async function collectStepArtifacts(step: PlannedStep, ctx: StepRunContext): Promise<ArtifactRecord[]> {
  const collected = await collectArtifacts(ctx.backend, step, ctx.run, {
    destDir: ctx.artifactsDir,
    maxBytes: ctx.artifactMaxBytes,
    missing: (path) => ctx.log.system(`notice: artifact '${path}' was not found in the workspace`),
  });
  const artifacts = collected.map((a) => ({ ...a, path: `${ctx.artifactsPrefix}/${a.path}` }));
  for (const artifact of artifacts) ctx.log.system(`artifact ${artifact.path} (${artifact.size} bytes)`);
  return artifacts;
}

async function runAttempt(
  step: PlannedStep,
  ctx: StepRunContext,
  prepared: Promise<PreparedStep | undefined> | undefined,
): Promise<{ outcome: Omit<StepOutcome, 'attempts' | 'artifacts'>; started: boolean }> {
  if (ctx.runSignal.aborted) {
    await discardQuietly(prepared);
    return {
      outcome: { status: 'killed', exitCode: null, reason: 'terminated before it started' },
      started: false,
    };
  }
  if (ctx.cancelled?.aborted) {
    return {
      outcome: { status: 'killed', exitCode: null, reason: cancelReason(ctx.cancelled) },
      started: false,
    };
  }
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), step.timeoutMs);
  const stops = [ctx.runSignal, timeout.signal, ...(ctx.cancelled ? [ctx.cancelled] : [])];
  const signal = AbortSignal.any(stops);
  let started = false;
  try {
    // The timeout runs from here: time a prepared step spent waiting at its gate is not counted.
    const ready = await prepared;
    if (ready) await ready.release();
    else await ctx.backend.startStep(step, ctx.run);
    started = true;
    ctx.reports?.attemptStarted();
    const noSpace = new NoSpaceWatch();
    const output = pumpOutput(ctx.backend.tailStep(step, ctx.run), ctx.log, noSpace);
    const exit = await ctx.backend.waitStep(step, ctx.run, signal, ctx.graceMs);
    await drain(output);
    await ctx.reports?.attemptEnded();
    if (ctx.runSignal.aborted) {
      return {
        outcome: { status: 'killed', exitCode: exit.exitCode, reason: 'terminated by user' },
        started,
      };
    }
    if (ctx.cancelled?.aborted) {
      const reason = cancelReason(ctx.cancelled);
      ctx.log.system(reason);
      return { outcome: { status: 'killed', exitCode: exit.exitCode, reason }, started };
    }
    if (timeout.signal.aborted) {
      const reason = `timed out after ${formatDuration(step.timeoutMs)}`;
      return { outcome: { status: 'failure', exitCode: exit.exitCode, reason }, started };
    }
    if (exit.stoppedFromOutside !== undefined) {
      ctx.log.system(`error: ${exit.stoppedFromOutside}`);
      return {
        outcome: { status: 'error', exitCode: exit.exitCode, reason: exit.stoppedFromOutside },
        started,
      };
    }
    if (exit.oomKilled) {
      return { outcome: { status: 'failure', exitCode: exit.exitCode, reason: 'out of memory' }, started };
    }
    if (exit.exitCode !== 0) {
      const reason = noSpaceReason(noSpace, exit.scratch ?? [], step) ?? `exit code ${exit.exitCode}`;
      return { outcome: { status: 'failure', exitCode: exit.exitCode, reason }, started };
    }
    return { outcome: { status: 'success', exitCode: 0, reason: null }, started };
  } catch (error) {
    const reason =
      error instanceof BackendError
        ? error.message
        : `engine error: ${error instanceof Error ? error.message : String(error)}`;
    ctx.log.system(`error: ${reason}`);
    if (started) await ctx.reports?.attemptEnded();
    return { outcome: { status: 'error', exitCode: null, reason }, started };
  } finally {
    clearTimeout(timer);
  }
}

function cancelReason(signal: AbortSignal): string {
  return typeof signal.reason === 'string'
    ? signal.reason
    : 'cancelled by a newer member of its concurrency group';
}

async function pumpOutput(
  output: AsyncIterable<OutputChunk>,
  log: StepLog,
  noSpace: NoSpaceWatch,
): Promise<void> {
  // Backpressure: when the log file falls behind, stop reading so the source slows down.
  for await (const chunk of output) {
    noSpace.feed(chunk);
    if (!log.write(chunk)) await log.drained();
  }
}

/** A failure the step's output blames on a full disk; by name when it is /tmp or HOME. */
function noSpaceReason(noSpace: NoSpaceWatch, scratch: string[], step: PlannedStep): string | undefined {
  const folder = noSpace.fullFolder(scratch);
  if (folder === undefined) return undefined;
  if (folder === '') return 'no space left on device';
  return `no space left on ${folder} (resources.tmp: ${formatBytes(step.environment.resources.tmpBytes)})`;
}

/** Output normally ends with the process; a stuck stream must not hold the run. */
async function drain(output: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, OUTPUT_DRAIN_MS);
  });
  try {
    await Promise.race([output.catch(() => undefined), bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** A prepared environment the step will not use; its removal is the backend's business. */
async function discardQuietly(prepared: Promise<PreparedStep | undefined> | undefined): Promise<void> {
  await (await prepared)?.discard().catch(() => undefined);
}

async function destroyQuietly(step: PlannedStep, ctx: StepRunContext): Promise<void> {
  try {
    await ctx.backend.destroyStep(step, ctx.run);
  } catch (error) {
    ctx.run.notice(
      `could not remove step resources: ${error instanceof Error ? error.message : String(error)}`,
      step.name,
    );
  }
}
