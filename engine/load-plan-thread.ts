// The worker side of loadPlanInWorker (load-plan-worker.ts): one loadPlan call in a thread of
// its own, its answer posted back as plain data. Errors that mean "bad input" travel as data
// too, so the caller can throw the same classes loadPlan throws.
import { parentPort, workerData } from 'node:worker_threads';
import { type LoadedPlan, loadPlan, type PipelineSource } from './load-plan.ts';
import { PipelineReadError } from './pipeline.ts';
import type { Trigger } from './plan.ts';
import { UnknownStepError } from './plan-select.ts';

export interface ThreadRequest {
  source: PipelineSource;
  request?: { trigger: Trigger; steps?: readonly string[] };
}

export type ThreadAnswer =
  | { loaded: LoadedPlan }
  | { unreadable: { file: string; reason: string } }
  | { unknownSteps: { names: string[]; available: string[] } };

async function answer({ source, request }: ThreadRequest): Promise<ThreadAnswer> {
  try {
    return { loaded: await loadPlan(source, request) };
  } catch (error) {
    if (error instanceof PipelineReadError) return { unreadable: { file: error.file, reason: error.reason } };
    if (error instanceof UnknownStepError)
      return { unknownSteps: { names: error.names, available: error.available } };
    throw error;
  }
}

// Anything else thrown here reaches the caller as the worker's 'error' event.
parentPort?.postMessage(await answer(workerData as ThreadRequest));
