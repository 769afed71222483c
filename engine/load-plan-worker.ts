// loadPlan in a worker thread, for callers that must not stop for the length of a lint: the
// server's event loop answers requests, webhooks and log streams while a pipeline file of up
// to 1 MiB is parsed, linted and compiled (a second or more for the densest file it accepts).
// A thread that takes longer than its time limit is terminated and the file is reported as
// too slow to check, with a position like every other finding.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import PQueue from 'p-queue';
import type { Diagnostic } from './diagnostics.ts';
import type { LoadedPlan, PipelineSource } from './load-plan.ts';
import type { ThreadAnswer, ThreadRequest } from './load-plan-thread.ts';
import { PipelineReadError } from './pipeline.ts';
import type { Trigger } from './plan.ts';
import { UnknownStepError } from './plan-select.ts';

/** How long one check may take, thread start included, before it is given up. */
export const CHECK_TIMEOUT_MS = 20_000;
/** Checks that run at once; more wait their turn, so a burst of pushes cannot take every core. */
export const CHECK_CONCURRENCY = 2;

export interface WorkerPlanRequest {
  /** A plain trigger: a function could not cross into the thread. */
  trigger: Trigger;
  steps?: readonly string[];
}

export interface WorkerCheckOptions {
  timeoutMs?: number;
}

const checks = new PQueue({ concurrency: CHECK_CONCURRENCY });

// The thread's module beside this one, with this module's own extension: `.ts` when gbcms
// runs from its sources through tsx, `.js` once compiled.
const THREAD = new URL(`./load-plan-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * What loadPlan answers, computed in a worker thread. Throws what loadPlan throws
 * (PipelineReadError, UnknownStepError); a check over its time limit is an answer with one
 * GBCMS_FILE_CHECK_TIMEOUT error.
 */
export function loadPlanInWorker(
  source: PipelineSource,
  request?: WorkerPlanRequest,
  options: WorkerCheckOptions = {},
): Promise<LoadedPlan> {
  const data: ThreadRequest = request ? { source, request } : { source };
  return checks.add(() => check(data, options.timeoutMs ?? CHECK_TIMEOUT_MS));
}

function check(data: ThreadRequest, timeoutMs: number): Promise<LoadedPlan> {
  return new Promise((resolve, reject) => {
    const worker = startThread(data);
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      finish();
    };
    const timer = setTimeout(() => {
      settle(() => resolve(tooSlow(data.source.display, timeoutMs)));
      void worker.terminate();
    }, timeoutMs);
    worker.once('message', (answer: ThreadAnswer) => settle(() => fromAnswer(answer, resolve, reject)));
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', (code) =>
      settle(() => reject(new Error(`the pipeline check thread exited with code ${code} before answering`))),
    );
  });
}

function startThread(data: ThreadRequest): Worker {
  if (THREAD.pathname.endsWith('.ts')) {
    // Node 20 resolves a worker's entry file before the loaders of its execArgv run, and the
    // launcher registers tsx through its API, which threads do not inherit: the entry is a
    // bootstrap that registers tsx, then imports the thread's module.
    const tsx = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD.href)}); });`;
    return new Worker(code, { eval: true, workerData: data });
  }
  return new Worker(THREAD, { workerData: data });
}

function fromAnswer(
  answer: ThreadAnswer,
  resolve: (loaded: LoadedPlan) => void,
  reject: (error: Error) => void,
): void {
  if ('loaded' in answer) resolve(answer.loaded);
  else if ('unreadable' in answer)
    reject(new PipelineReadError(answer.unreadable.file, answer.unreadable.reason));
  else reject(new UnknownStepError(answer.unknownSteps.names, answer.unknownSteps.available));
}

function tooSlow(file: string, timeoutMs: number): LoadedPlan {
  const limit = timeoutMs < 1000 ? `${timeoutMs} ms` : `${timeoutMs / 1000} s`;
  const diagnostic: Diagnostic = {
    severity: 'error',
    code: 'GBCMS_FILE_CHECK_TIMEOUT',
    message: `pipeline file took too long to check (over ${limit}); nothing in it was used`,
    file,
    path: '',
    line: 1,
    col: 1,
  };
  return { file, diagnostics: [diagnostic] };
}
