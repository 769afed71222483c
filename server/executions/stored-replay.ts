// The events of an execution that is no longer live (it ended, possibly before a restart),
// rebuilt from the store and the step log files in a fixed order: status, steps, each step's
// log lines followed by that step's reports (in the order they were stored, which is the order
// they arrived), in step order, then the reports of steps without a step row (an external
// execution's), artifacts, end. A report thus comes after the log lines of its step, not
// interleaved with them by time; each report carries its own time. The same stored execution
// always gives the same events with the same ids, so Last-Event-ID works across reconnects.
//
// Stored ids start at REPLAY_FIRST_ID, far above any live stream's, so an id a client got from
// the live stream (before the server restarted or forgot the stream) is never mistaken for a
// position in the replay: such a client is given the whole replay.
import { join } from 'node:path';
import { type LogLine, readLogLines } from '../../engine/logs/log-line.ts';
import { isFinished } from '../../engine/status.ts';
import type { Execution, Store } from '../store/index.ts';
import { artifactEvent, type EventBody, logEvent, numbered, stepEvent } from './event-shapes.ts';
import type { EventListener } from './event-stream.ts';

export const REPLAY_FIRST_ID = 2 ** 40 + 1;

/** Stored reports read per query while replaying. */
const REPORTS_PAGE = 1000;

export async function* storedEvents(
  store: Pick<Store, 'steps' | 'artifacts' | 'reports'>,
  dataDir: string,
  execution: Execution,
): AsyncGenerator<EventBody> {
  yield { type: 'status', execution };
  const steps = await store.steps.list(execution.id);
  for (const step of steps) yield stepEvent(step);
  for (const step of steps) {
    const lines = readLogLines(join(dataDir, execution.logs_dir, step.log));
    for (;;) {
      let next: IteratorResult<LogLine>;
      try {
        next = await lines.next();
      } catch {
        // No log file (the step never ran) or an unreadable one: the step shows without lines.
        break;
      }
      if (next.done) break;
      yield logEvent(step.name, next.value);
    }
    yield* storedReports(store, execution.id, step.name);
  }
  const known = new Set(steps.map((step) => step.name));
  for (const step of await store.reports.steps(execution.id)) {
    if (!known.has(step)) yield* storedReports(store, execution.id, step);
  }
  for (const artifact of await store.artifacts.list(execution.id)) yield artifactEvent(artifact);
  if (isFinished(execution.status)) yield { type: 'end', execution };
}

async function* storedReports(
  store: Pick<Store, 'reports'>,
  executionId: string,
  step: string,
): AsyncGenerator<EventBody> {
  let after = 0;
  for (;;) {
    const page = await store.reports.list({ executionId, step, after, limit: REPORTS_PAGE });
    for (const { seq, report } of page.items) yield { type: 'report', step, seq, report };
    if (page.next === null) return;
    after = page.next;
  }
}

/**
 * Hands the events after `afterId` to `listener`, starting on a later turn of the event loop;
 * `end` always comes last, even to a client that has seen it. Returns the stop function.
 */
export function replayStored(
  events: AsyncGenerator<EventBody>,
  listener: EventListener,
  afterId: number | undefined,
  onError: (error: unknown) => void,
): () => void {
  let stopped = false;
  const run = async () => {
    let id = REPLAY_FIRST_ID - 1;
    try {
      for await (const body of events) {
        if (stopped) break;
        id += 1;
        if (afterId === undefined || id > afterId || body.type === 'end') listener(numbered(id, body));
      }
    } catch (error) {
      onError(error);
    } finally {
      await events.return(undefined);
    }
  };
  setImmediate(() => void run());
  return () => {
    stopped = true;
  };
}
