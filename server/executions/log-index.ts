// Feeds an execution's log lines to the search index: buffered, then stored in one transaction
// every second (or every 500 lines), one write at a time, so a chatty step costs the database
// a few inserts a second rather than one per line, and no insert holds the event loop long
// (SQLite writes are synchronous: 500 lines take tens of milliseconds on a loaded machine).
// Lines arrive masked, as the log file stores them. Indexing is best effort: a failed batch is
// logged and dropped, never a failed execution; lines a step prints faster than the index
// takes them are left out past a backlog, rather than held in memory or slowing the step.
import type { LogLine } from '../../engine/logs/log-line.ts';
import type { LogLineEntry, Store } from '../store/index.ts';

export const LOG_INDEX_FLUSH_MS = 1000;
export const LOG_INDEX_BATCH = 500;
/** Lines waiting for the index past which new ones are not indexed (the log file has them all). */
export const MAX_INDEX_BACKLOG = 50_000;
/** Longer lines are indexed by their start: a minified bundle should not bloat the index. */
export const MAX_INDEXED_CHARS = 2000;
/** Lines past this count in one execution are not indexed (the log file still has them). */
export const MAX_INDEXED_LINES = 200_000;

export interface LogIndexOptions {
  store: Pick<Store, 'logSearch'>;
  executionId: string;
  projectId: string;
  onError(error: unknown): void;
  flushMs?: number;
}

export class LogIndex {
  readonly #options: LogIndexOptions;
  readonly #flushMs: number;
  #buffer: LogLineEntry[] = [];
  #indexed = 0;
  /** Lines buffered or being written. */
  #backlog = 0;
  #skipped = 0;
  #timer: NodeJS.Timeout | undefined;
  #writes: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: LogIndexOptions) {
    this.#options = options;
    this.#flushMs = options.flushMs ?? LOG_INDEX_FLUSH_MS;
  }

  add(step: string, line: LogLine): void {
    // Report commands are gbcms's protocol, not output anyone searches for; blank lines match nothing.
    if (this.#closed || line.report || line.text.trim() === '') return;
    if (this.#indexed >= MAX_INDEXED_LINES || this.#backlog >= MAX_INDEX_BACKLOG) {
      this.#skipped += 1;
      return;
    }
    this.#indexed += 1;
    this.#backlog += 1;
    const { executionId, projectId } = this.#options;
    this.#buffer.push({
      execution_id: executionId,
      project_id: projectId,
      step,
      line: line.seq,
      text: line.text.length > MAX_INDEXED_CHARS ? line.text.slice(0, MAX_INDEXED_CHARS) : line.text,
    });
    if (this.#buffer.length >= LOG_INDEX_BATCH) this.#flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#flush(), this.#flushMs);
      // close() stores what is left: the timer need not keep the process alive.
      this.#timer.unref();
    }
  }

  /** Lines not indexed: past the cap on an execution's lines, or while the index was behind. */
  get skipped(): number {
    return this.#skipped;
  }

  /** Stores what is buffered and ignores later lines. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#flush();
    await this.#writes;
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#buffer.length === 0) return;
    const batch = this.#buffer;
    this.#buffer = [];
    this.#writes = this.#writes
      .then(() => this.#options.store.logSearch.add(batch))
      .catch((error: unknown) => this.#options.onError(error))
      .finally(() => {
        this.#backlog -= batch.length;
      });
  }
}
