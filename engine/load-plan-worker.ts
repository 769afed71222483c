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
import type { ThreadAnswer, ThreadMessage, ThreadRequest } from './load-plan-thread.ts';
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

/**
 * Threads that finished a check and wait for the next, unref'd so they never keep the process
 * alive. Starting a thread costs far more than a check of a usual file (the engine and the
 * schema compiler load again), so a thread serves check after check; one that times out or
 * dies is dropped, and the next check starts a fresh one. At most CHECK_CONCURRENCY exist.
 */
const idle: Worker[] = [];
let lastId = 0;

/** How many threads wait warm for the next check (for tests and diagnostics). */
export function waitingCheckThreads(): number {
  return idle.length;
}

function check(data: ThreadRequest, timeoutMs: number): Promise<LoadedPlan> {
  return new Promise((resolve, reject) => {
    const worker = idle.pop() ?? startThread();
    worker.ref();
    const id = ++lastId;
    let settled = false;
    const settle = (finish: () => void, reusable: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (reusable) {
        worker.unref();
        idle.push(worker);
      }
      finish();
    };
    const onMessage = (reply: { id: number; answer: ThreadAnswer }) => {
      if (reply.id === id) settle(() => fromAnswer(reply.answer, resolve, reject), true);
    };
    const onError = (error: Error) => settle(() => reject(error), false);
    const onExit = (code: number) =>
      settle(
        () => reject(new Error(`the pipeline check thread exited with code ${code} before answering`)),
        false,
      );
    const timer = setTimeout(() => {
      settle(() => resolve(tooSlow(data.source.display, timeoutMs)), false);
      void worker.terminate();
    }, timeoutMs);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    const message: ThreadMessage = { id, data };
    worker.postMessage(message);
  });
}

function startThread(): Worker {
  const worker = spawnThread();
  // A waiting thread that dies is forgotten; its error was (or will be) told to the check it
  // served, and an idle one has nobody to tell, so the listener only keeps it from crashing us.
  worker.on('error', () => undefined);
  worker.once('exit', () => {
    const at = idle.indexOf(worker);
    if (at >= 0) idle.splice(at, 1);
  });
  return worker;
}

function spawnThread(): Worker {
  if (THREAD.pathname.endsWith('.ts')) {
    // Node 20 resolves a worker's entry file before the loaders of its execArgv run, and the
    // launcher registers tsx through its API, which threads do not inherit: the entry is a
    // bootstrap that registers tsx, then imports the thread's module.
    const tsx = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD.href)}); });`;
    return new Worker(code, { eval: true });
  }
  return new Worker(THREAD);
}

function fromAnswer(
  answer: ThreadAnswer,
  resolve: (loaded: LoadedPlan) => void,
  reject: (error: Error) => void,
): void {
  if ('loaded' in answer) resolve(answer.loaded);
  else if ('failed' in answer) {
    const error = new Error(answer.failed.message);
    if (answer.failed.stack !== undefined) error.stack = answer.failed.stack;
    reject(error);
  } else if ('unreadable' in answer)
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
