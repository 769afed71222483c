// Where subscribers find an execution's live event stream: one per waiting, running or
// recently ended execution. An ended one stays a little while, for clients that reconnect
// right after the end, and only the newest few stay, since each may hold many events.
import { isFinished } from '../../engine/status.ts';
import { NotFoundError, type Store } from '../store/index.ts';
import { type EventListener, EventStream } from './event-stream.ts';
import type { ExecutionLogger } from './logger.ts';
import { replayStored, storedEvents } from './stored-replay.ts';

export interface StreamRegistryOptions {
  store: Store;
  /** Where ended executions' logs are read back from. */
  dataDir: string;
  logger: ExecutionLogger;
  maxBufferedEvents?: number;
  endedStreamMs?: number;
}

const DEFAULT_ENDED_STREAM_MS = 60_000;
/** The longest a subscriber waits for a take-up in progress (takingUp) before a replay. */
const TAKE_UP_WAIT_MS = 30_000;
/** Ended streams kept at most, whatever endedStreamMs says: each may hold many events. */
const MAX_ENDED_STREAMS = 32;

export class StreamRegistry {
  readonly #options: StreamRegistryOptions;
  readonly #streams = new Map<string, EventStream>();
  readonly #ended = new Map<string, NodeJS.Timeout>();
  /** Recoveries in progress (takingUp), each settled when it has ended. */
  readonly #takingUp = new Set<Promise<void>>();

  constructor(options: StreamRegistryOptions) {
    this.#options = options;
  }

  /** A new stream for the execution, found by get() from now on. */
  open(executionId: string, logFile: (step: string) => string | undefined): EventStream {
    const { store, logger, maxBufferedEvents } = this.#options;
    const stream = new EventStream({
      maxBuffered: maxBufferedEvents,
      logFile,
      onListenerError: (error) =>
        logger.warn({ err: error, execution: executionId }, 'an event subscriber failed'),
      readReports: (from, to) => store.reports.range(executionId, from, to),
    });
    this.#streams.set(executionId, stream);
    return stream;
  }

  get(executionId: string): EventStream | undefined {
    return this.#streams.get(executionId);
  }

  /**
   * Follows the execution's live stream after `afterId`, or (no live stream: it ended, or no
   * process runs it) its stored events, rebuilt (stored-replay.ts).
   */
  async subscribe(executionId: string, listener: EventListener, afterId?: number): Promise<() => void> {
    const live = this.#streams.get(executionId);
    if (live) return live.subscribe(listener, afterId);
    const { store, dataDir, logger } = this.#options;
    let execution = await store.executions.get(executionId);
    if (!execution) throw new NotFoundError('execution', executionId);
    if (this.#takingUp.size > 0 && !isFinished(execution.status)) {
      // Being taken up, perhaps: its live stream opens before the take-up ends.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(this.#takingUp),
        new Promise((resolve) => {
          timer = setTimeout(resolve, TAKE_UP_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
      execution = (await store.executions.get(executionId)) ?? execution;
    }
    // It may have been queued while the row was read (recover()), or taken up meanwhile.
    const late = this.#streams.get(executionId);
    if (late) return late.subscribe(listener, afterId);
    return replayStored(storedEvents(store, dataDir, execution), listener, afterId, (error) =>
      logger.warn({ err: error, execution: executionId }, 'execution replay stopped'),
    );
  }

  /**
   * Executions are being taken up while `work` runs (a restart's recovery, or a dead peer's
   * executions): each is this server's in the database a moment before its live stream opens,
   * so a subscriber that finds no live stream meanwhile waits for `work` rather than be given
   * a replay of a run still going, which would never end.
   */
  takingUp<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.#takingUp.add(settled);
    void settled.then(() => this.#takingUp.delete(settled));
    return work;
  }

  /** The execution ended and its `end` is published: its stream goes after a while. */
  retire(executionId: string): void {
    const timer = setTimeout(
      () => this.#drop(executionId),
      this.#options.endedStreamMs ?? DEFAULT_ENDED_STREAM_MS,
    );
    timer.unref();
    this.#ended.set(executionId, timer);
    for (const oldest of this.#ended.keys()) {
      if (this.#ended.size <= MAX_ENDED_STREAMS) break;
      this.#drop(oldest);
    }
  }

  #drop(executionId: string): void {
    clearTimeout(this.#ended.get(executionId));
    this.#ended.delete(executionId);
    this.#streams.delete(executionId);
  }
}
