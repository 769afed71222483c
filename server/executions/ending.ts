// How an execution's end is recorded and told, one way for a pipeline run (job.ts) and an
// external execution (external.ts): the end goes through the guarded setter, so a late end
// never overwrites an earlier one and the row as stored is what everyone is told; then status
// observers (metrics, pages), the stream's `end` event, and the stream's retirement.
import type { RunStatus } from '../../engine/status.ts';
import type { Execution, Store } from '../store/index.ts';
import type { EventStream } from './event-stream.ts';
import type { ExecutionLogger } from './logger.ts';

export interface EndingContext {
  store: Pick<Store, 'executions'>;
  logger: ExecutionLogger;
  emitStatus(execution: Execution): void;
  /** The execution's `end` is published: its stream may go after a while. */
  retireStream(executionId: string): void;
}

export interface Ending {
  /** The row as last known. */
  execution: Execution;
  stream: Pick<EventStream, 'publish'>;
  /** A finished status. */
  status: RunStatus;
  reason: string | null;
  at: string;
  /** What the logs call it: 'execution', 'external execution'. */
  noun: string;
  /** Writes that belong before the end (an external execution's last sign of life). */
  before?(): Promise<void>;
  /** The end as recorded, before anyone is told: the caller's own bookkeeping. */
  recorded(execution: Execution): void;
}

/** Records the end and tells everyone; the execution as it ended. Never throws for the store. */
export async function endExecution(ctx: EndingContext, ending: Ending): Promise<Execution> {
  const { store, logger } = ctx;
  const { status, reason, at, noun } = ending;
  const id = ending.execution.id;
  let execution: Execution = { ...ending.execution, status, reason, ended_at: at };
  try {
    await ending.before?.();
    if (!(await store.executions.setEnded(id, status, reason, at))) {
      logger.warn({ execution: id, status }, `the ${noun} had already ended`);
    }
    execution = (await store.executions.get(id)) ?? execution;
  } catch (error) {
    logger.error({ err: error, execution: id }, `could not record the end of the ${noun}`);
  }
  ending.recorded(execution);
  ctx.emitStatus(execution);
  ending.stream.publish({ type: 'end', execution });
  ctx.retireStream(id);
  logger.info({ execution: id, status: execution.status, reason: execution.reason }, `${noun} ended`);
  return execution;
}
