// A backend that runs nothing: each step's behaviour is steered by its env, so the
// scheduler, retries, timeouts and statuses can be tested fast and without Docker.
//   STEP_OUTPUT / STEP_STDERR  text written to stdout / stderr
//   STEP_SLEEP_MS              how long the step "runs" (stopping it ends it with 143)
//   STEP_EXIT_CODE             exit code (default 0)
//   STEP_FAIL_ATTEMPTS         the first N attempts exit 1, later ones use STEP_EXIT_CODE
//   STEP_OOM_KILLED=1          ends as killed at its memory limit (137)
//   STEP_START_ERROR           startStep throws a BackendError with this message
//   STEP_REPORTS_JSONL         content of the step's $GBCMS_REPORTS file, as fetchArchive gives it
//   STEP_JUNIT_XML             content of the step's reports.junit file
//   FAKE_SETUP_ERROR           (on any step) setupRun throws a BackendError with this message
// Every artifact path of a started step holds one small file: `artifact <path> of <step> in <run>`.
// Each started attempt reports a pretend container, `fake-<step>-<attempt>`, to run.environment.

import { posix } from 'node:path';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { type PlannedStep, REPORTS_DIR, workspaceRelative } from '../plan.ts';
import { stepEnvironment } from './env.ts';
import { type Backend, BackendError, type OutputChunk, type RunContext, type StepExit } from './types.ts';

interface FakeStepState {
  attempt: number;
  env: Record<string, string>;
  startedAt: number;
}

export class FakeBackend implements Backend {
  readonly name = 'fake';
  /** Everything the backend was asked to do, in order, for assertions. */
  readonly calls: string[] = [];
  private readonly steps = new Map<string, FakeStepState>();
  private running = 0;
  /** The most steps that ran at the same time. */
  maxConcurrent = 0;

  async isAvailable(): Promise<boolean> {
    return true;
  }

  async setupRun(run: RunContext): Promise<void> {
    this.calls.push('setupRun');
    const failing = run.plan.steps.find((s) => s.env.FAKE_SETUP_ERROR);
    if (failing)
      throw new BackendError('GBCMS_ERR_FAKE_SETUP', failing.env.FAKE_SETUP_ERROR ?? 'setup failed');
  }

  async startStep(step: PlannedStep, run: RunContext): Promise<void> {
    this.calls.push(`start ${step.name}`);
    const env = stepEnvironment(step, run);
    if (env.STEP_START_ERROR) throw new BackendError('GBCMS_ERR_FAKE_START', env.STEP_START_ERROR);
    const attempt = (this.steps.get(key(step, run))?.attempt ?? 0) + 1;
    this.steps.set(key(step, run), { attempt, env, startedAt: Date.now() });
    run.environment?.(step.name, {
      containerId: `fake-${step.name}-${attempt}`,
      image: step.environment.image ?? 'fake',
    });
    this.running += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.running);
  }

  async *tailStep(step: PlannedStep, run: RunContext): AsyncIterable<OutputChunk> {
    const { env } = this.state(step, run);
    if (env.STEP_OUTPUT) yield { stream: 'stdout', data: Buffer.from(env.STEP_OUTPUT) };
    if (env.STEP_STDERR) yield { stream: 'stderr', data: Buffer.from(env.STEP_STDERR) };
  }

  async waitStep(step: PlannedStep, run: RunContext, signal: AbortSignal): Promise<StepExit> {
    const state = this.state(step, run);
    const sleepMs = Number(state.env.STEP_SLEEP_MS ?? 0);
    try {
      const stopped = await sleep(sleepMs, signal);
      if (stopped) return { exitCode: 143, oomKilled: false };
      if (state.env.STEP_OOM_KILLED === '1') return { exitCode: 137, oomKilled: true };
      if (state.attempt <= Number(state.env.STEP_FAIL_ATTEMPTS ?? 0))
        return { exitCode: 1, oomKilled: false };
      return { exitCode: Number(state.env.STEP_EXIT_CODE ?? 0), oomKilled: false };
    } finally {
      this.running -= 1;
      this.calls.push(`end ${step.name}`);
    }
  }

  async fetchArchive(step: PlannedStep, run: RunContext, path: string): Promise<Readable | undefined> {
    const state = this.steps.get(key(step, run));
    const relative = workspaceRelative(path);
    if (!state || relative === undefined) return undefined;
    const content =
      relative === step.reports.junit
        ? state.env.STEP_JUNIT_XML
        : relative.startsWith(`${REPORTS_DIR}/`)
          ? state.env.STEP_REPORTS_JSONL
          : step.artifacts.some((artifact) => artifact.path === relative)
            ? `artifact ${relative} of ${step.name} in ${run.id}\n`
            : undefined;
    if (content === undefined) return undefined;
    const pack = tarStream.pack();
    pack.entry({ name: posix.basename(relative), type: 'file' }, Buffer.from(content));
    pack.finalize();
    return Readable.from(pack, { objectMode: false });
  }

  async destroyStep(step: PlannedStep): Promise<void> {
    this.calls.push(`destroy ${step.name}`);
  }

  async destroyRun(runId: string): Promise<void> {
    this.calls.push('destroyRun');
    for (const name of this.steps.keys()) if (name.startsWith(`${runId}/`)) this.steps.delete(name);
  }

  /** Runs with a started step not yet destroyed by destroyRun. */
  async leftoverRuns(): Promise<string[]> {
    return [...new Set([...this.steps.keys()].map((name) => name.slice(0, name.indexOf('/'))))].sort();
  }

  private state(step: PlannedStep, run: RunContext): FakeStepState {
    const state = this.steps.get(key(step, run));
    if (!state) throw new Error(`fake backend: step '${step.name}' was not started`);
    return state;
  }
}

function key(step: PlannedStep, run: RunContext): string {
  return `${run.id}/${step.name}`;
}

/** Resolves true when `signal` cut the sleep short. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
