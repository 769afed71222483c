// The worker side of loadPlanInWorker (load-plan-worker.ts): a thread that stays warm and runs
// one loadPlan call per message, its answer posted back as plain data with the request's id.
// Errors that mean "bad input" travel as data too, so the caller can throw the same classes
// loadPlan throws; anything else travels as `failed` and the thread stays usable.
import { parentPort } from 'node:worker_threads';
import { type LoadedPlan, loadPlan, type PipelineSource } from './load-plan.ts';
import { PipelineReadError } from './pipeline.ts';
import type { Trigger } from './plan.ts';
import { UnknownStepError } from './plan-select.ts';

export interface ThreadRequest {
  source: PipelineSource;
  request?: { trigger: Trigger; steps?: readonly string[] };
}

export interface ThreadMessage {
  id: number;
  data: ThreadRequest;
}

export type ThreadAnswer =
  | { loaded: LoadedPlan }
  | { failed: { message: string; stack?: string } }
  | { unreadable: { file: string; reason: string } }
  | { unknownSteps: { names: string[]; available: string[] } };

async function answer({ source, request }: ThreadRequest): Promise<ThreadAnswer> {
  try {
    return { loaded: await loadPlan(source, request) };
  } catch (error) {
    if (error instanceof PipelineReadError) return { unreadable: { file: error.file, reason: error.reason } };
    if (error instanceof UnknownStepError)
      return { unknownSteps: { names: error.names, available: error.available } };
    const { message, stack } = error instanceof Error ? error : new Error(String(error));
    return { failed: stack === undefined ? { message } : { message, stack } };
  }
}

parentPort?.on('message', (message: ThreadMessage) => {
  void answer(message.data).then((reply) => parentPort?.postMessage({ id: message.id, answer: reply }));
});
