// Consecutive log lines of one step, sent as one `logs` event: a step printing 100,000 lines a
// second would otherwise cost a browser 100,000 message events (each parsed on its own) and
// the stream as many headers. A batch goes out at the end of the turn of the event loop that
// filled it, when it is full, or before any other event (so the order of events is kept). Its
// id is its last line's, so a client resuming with Last-Event-ID misses nothing and gets
// nothing twice.
import type { ExecutionEvent } from '../../executions/types.ts';
import { type HtmlLogLine, htmlLogLine } from './log-line-view.ts';

/** Lines per batch at most: bounds one message, and what a browser parses at once. */
export const MAX_BATCH_LINES = 2000;

type Send = (id: number, type: string, data: unknown) => void;

export class LogBatches {
  readonly #send: Send;
  #step: string | undefined;
  #lines: HtmlLogLine[] = [];
  #lastId = 0;
  #flushing: NodeJS.Immediate | undefined;

  constructor(send: Send) {
    this.#send = send;
  }

  /** Log events join the batch; any other flushes it first, then is sent by `sendOther`. */
  add(event: Extract<ExecutionEvent, { type: 'log' }>): void {
    if (this.#step !== event.step) this.flush();
    this.#step = event.step;
    this.#lines.push(htmlLogLine(event.line));
    this.#lastId = event.id;
    if (this.#lines.length >= MAX_BATCH_LINES) this.flush();
    else this.#flushing ??= setImmediate(() => this.flush());
  }

  flush(): void {
    if (this.#flushing !== undefined) clearImmediate(this.#flushing);
    this.#flushing = undefined;
    if (this.#lines.length === 0) return;
    const lines = this.#lines;
    this.#lines = [];
    this.#send(this.#lastId, 'logs', { step: this.#step, lines });
  }

  /** Drops what is waiting: the stream is gone. */
  close(): void {
    if (this.#flushing !== undefined) clearImmediate(this.#flushing);
    this.#flushing = undefined;
    this.#lines = [];
  }
}
