// The engine's and the store's records in the shape of execution events (types.ts).
import type { ArtifactRecord } from '../../engine/backends/types.ts';
import type { LogLine } from '../../engine/logs/log-line.ts';
import type { StepRecord } from '../../engine/run-record.ts';
import type { ExecutionEvent } from './types.ts';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** An event before the stream numbers it. */
export type EventBody = WithoutId<ExecutionEvent>;

export type LogEvent = Extract<ExecutionEvent, { type: 'log' }>;

export function numbered(id: number, body: EventBody): ExecutionEvent {
  return { id, ...body };
}

/**
 * Stored steps fit too. Field by field, so what a stored row has besides the record
 * (execution_id, position, log) stays out of the event.
 */
export function stepEvent(step: Omit<StepRecord, 'log'>): EventBody {
  return {
    type: 'step',
    step: {
      name: step.name,
      status: step.status,
      exit_code: step.exit_code,
      reason: step.reason,
      started_at: step.started_at,
      ended_at: step.ended_at,
      duration_ms: step.duration_ms,
      attempts: step.attempts,
    },
  };
}

export function logEvent(step: string, line: LogLine): Omit<LogEvent, 'id'> {
  const shown: LogEvent['line'] = { seq: line.seq, time: line.time, stream: line.stream, text: line.text };
  if (line.partial) shown.partial = true;
  if (line.report) shown.report = true;
  return { type: 'log', step, line: shown };
}

export function artifactEvent(artifact: ArtifactRecord): EventBody {
  const { step, path, size, sha256 } = artifact;
  return { type: 'artifact', artifact: { step, path, size, sha256 } };
}
