// With several servers, where a runner's run stands is kept beside its logs for a successor
// (runner-state.ts) before any page sees the events that moved it: after each batch of the
// runner's, and after each event published from outside them (a forge status notice). A
// successor then numbers its stream's events after every id a page may have been given.
import { planLabels } from '../../engine/plan.ts';
import type { ExecutionLogger } from '../executions/logger.ts';
import type { RemoteRunRequest } from './remote-dispatch.ts';
import type { RemoteRun, RemoteRunOptions } from './remote-run.ts';
import { keepRunnerState } from './runner-state.ts';

/** The latest events kept for a successor to give a page that was behind (runner-state.ts). */
const STREAM_TAIL = 100;

/** How a RemoteRun keeps its state after each batch; `holder` is the run as followed now. */
export function keepingAfterBatches(
  request: RemoteRunRequest,
  holder: () => RemoteRun | undefined,
): RemoteRunOptions {
  const { execution, plan, runDir, stream } = request;
  return {
    persist: async (snapshot) => {
      const streamId = stream?.lastId ?? 0;
      await keepRunnerState(runDir, snapshot, {
        holder: holder(),
        executionId: execution.id,
        labels: planLabels(plan),
        streamId,
        streamTail: stream?.recent(STREAM_TAIL) ?? [],
      });
      stream?.markKept(streamId);
    },
    ...(stream ? { hold: () => stream.hold() } : {}),
  };
}

/** Keeps the state after each event from outside the batches too; returns what stops it. */
export function keepOutsideBatches(
  request: RemoteRunRequest,
  remote: RemoteRun,
  logger: ExecutionLogger,
): () => void {
  const { stream, execution } = request;
  if (!stream) return () => undefined;
  stream.keepEachWith(() =>
    remote.keep().catch((error: unknown) => {
      logger.error({ err: error, execution: execution.id }, 'could not keep where the run stands');
    }),
  );
  return () => stream.keepEachWith(undefined);
}
