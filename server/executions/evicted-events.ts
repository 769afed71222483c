// What a live stream remembers of the events that fell out of its memory window, so a client
// that reconnects from far behind still gets exactly the events it missed, with their ids.
// Log lines, the bulk, are kept as (step, seq): 8 bytes each; their text is in the step's log
// file. Reports, the other bulk, are kept as their seq when they can be read back from the
// store (`storedReports`). The few other events (status, steps, notices, artifacts) are kept
// whole.
import type { ExecutionEvent } from './types.ts';

export type EvictedEntry =
  | { kind: 'event'; event: ExecutionEvent }
  | { kind: 'log'; step: string; seq: number }
  /** A stored report: its row has this seq. */
  | { kind: 'report'; seq: number }
  | { kind: 'missing' };

const SEQ_RANGE = 2 ** 32;
const NOT_A_LOG = -1;
/** Codes at or below this are stored reports: REPORT_BASE - seq. */
const REPORT_BASE = -2;

export class EvictedEvents {
  /**
   * Entry of event id k at k - 1: step index * 2^32 + seq for a log line, REPORT_BASE - seq
   * for a stored report, NOT_A_LOG otherwise.
   */
  #codes = new Float64Array(1024);
  #count = 0;
  readonly #others = new Map<number, ExecutionEvent>();
  readonly #steps: string[] = [];
  readonly #stepIndex = new Map<string, number>();
  readonly #storedReports: boolean;

  /** `storedReports`: report events can be read back from the store by their seq. */
  constructor(options: { storedReports?: boolean } = {}) {
    this.#storedReports = options.storedReports ?? false;
  }

  /** Events 1..upTo have been evicted. */
  get upTo(): number {
    return this.#count;
  }

  /** Events must be added in id order, from 1. */
  add(event: ExecutionEvent): void {
    if (event.id !== this.#count + 1) {
      throw new Error(`evicted event ${event.id} out of order (expected ${this.#count + 1})`);
    }
    this.#grow();
    if (event.type === 'log' && event.line.seq >= 0 && event.line.seq < SEQ_RANGE) {
      this.#codes[this.#count] = this.#indexOf(event.step) * SEQ_RANGE + event.line.seq;
    } else if (event.type === 'report' && this.#storedReports && isSeq(event.seq)) {
      this.#codes[this.#count] = REPORT_BASE - event.seq;
    } else {
      this.#codes[this.#count] = NOT_A_LOG;
      this.#others.set(event.id, event);
    }
    this.#count += 1;
  }

  /**
   * A stored report that was never in memory (a stream taking up an execution after a restart):
   * the next id is that report's event.
   */
  addStoredReport(seq: number): void {
    if (!this.#storedReports || !isSeq(seq)) throw new Error(`cannot keep report ${seq} by its seq`);
    this.#grow();
    this.#codes[this.#count] = REPORT_BASE - seq;
    this.#count += 1;
  }

  /**
   * Events up to `id` another server published (an execution followed on after it died): none
   * of them can be rebuilt here, so a client that asks for them gets what follows.
   */
  skipTo(id: number): void {
    if (this.#count !== 0) throw new Error('skipTo() is for a stream without events');
    let size = this.#codes.length;
    while (size < id) size *= 2;
    this.#codes = new Float64Array(size).fill(NOT_A_LOG);
    this.#count = id;
  }

  entry(id: number): EvictedEntry {
    const code = id >= 1 && id <= this.#count ? this.#codes[id - 1] : undefined;
    if (code === undefined) return { kind: 'missing' };
    if (code <= REPORT_BASE) return { kind: 'report', seq: REPORT_BASE - code };
    if (code === NOT_A_LOG) {
      const event = this.#others.get(id);
      return event ? { kind: 'event', event } : { kind: 'missing' };
    }
    const step = this.#steps[Math.floor(code / SEQ_RANGE)];
    return step === undefined ? { kind: 'missing' } : { kind: 'log', step, seq: code % SEQ_RANGE };
  }

  #grow(): void {
    if (this.#count < this.#codes.length) return;
    const grown = new Float64Array(this.#codes.length * 2);
    grown.set(this.#codes);
    this.#codes = grown;
  }

  #indexOf(step: string): number {
    let index = this.#stepIndex.get(step);
    if (index === undefined) {
      index = this.#steps.length;
      this.#steps.push(step);
      this.#stepIndex.set(step, index);
    }
    return index;
  }
}

function isSeq(seq: number): boolean {
  return Number.isSafeInteger(seq) && seq >= 1;
}
