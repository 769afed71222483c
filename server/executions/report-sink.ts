// Stores an execution's reports in batches and only then streams them: reports wait in a buffer
// until 250 ms have passed or 1000 are waiting, go to the store in one transaction, and are
// published with the seq the store gave them. A stream event thus always has a stored row, which
// is what lets the event stream forget old report events and read them back (evicted-events.ts).
// One write at a time per execution: seqs and events stay in the order reports arrived.
import type { Report } from '../../engine/reports/types.ts';
import type { ReportEntry, Store } from '../store/index.ts';
import type { EventBody } from './event-shapes.ts';

export const REPORT_FLUSH_MS = 250;
export const REPORT_BATCH = 1000;

export interface ReportSinkOptions {
  store: Pick<Store, 'reports'>;
  executionId: string;
  publish(body: EventBody): void;
  /** A batch could not be stored: its reports are lost (and not streamed). */
  onError(error: unknown): void;
  flushMs?: number;
  batchSize?: number;
}

export class ReportSink {
  readonly #options: ReportSinkOptions;
  readonly #flushMs: number;
  readonly #batchSize: number;
  #buffer: ReportEntry[] = [];
  #writing = 0;
  #timer: NodeJS.Timeout | undefined;
  #drain: Promise<void> | undefined;
  #closed = false;

  constructor(options: ReportSinkOptions) {
    this.#options = options;
    this.#flushMs = options.flushMs ?? REPORT_FLUSH_MS;
    this.#batchSize = options.batchSize ?? REPORT_BATCH;
  }

  /** Reports buffered or being written. */
  get pending(): number {
    return this.#buffer.length + this.#writing;
  }

  /** Queues a report. Ignored once the sink is closed. */
  add(step: string, report: Report): void {
    if (this.#closed) return;
    this.#buffer.push({ step, report });
    if (this.#buffer.length >= this.#batchSize) this.#kick();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#kick(), this.#flushMs);
      // close() flushes what is left: the timer need not keep the process alive.
      this.#timer.unref();
    }
  }

  /** Resolves once everything added so far is stored and published. */
  async flush(): Promise<void> {
    for (;;) {
      this.#kick();
      if (!this.#drain) return;
      await this.#drain;
    }
  }

  /** Resolves once fewer than `limit` reports are pending: for producers that can wait. */
  async below(limit: number): Promise<void> {
    while (this.pending >= limit && this.#drain) await this.#drain;
  }

  /** Flushes, then ignores later reports. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #kick(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#drain || this.#buffer.length === 0) return;
    this.#drain = this.#write().finally(() => {
      this.#drain = undefined;
    });
  }

  async #write(): Promise<void> {
    const { store, executionId, publish, onError } = this.#options;
    while (this.#buffer.length > 0) {
      const batch = this.#buffer;
      this.#buffer = [];
      this.#writing = batch.length;
      try {
        const stored = await store.reports.addEntries(executionId, batch);
        for (const { seq, step, report } of stored) publish({ type: 'report', step, seq, report });
      } catch (error) {
        onError(error);
      } finally {
        this.#writing = 0;
      }
    }
  }
}
