// What a live stream remembers of the events that fell out of its memory window, so a client
// that reconnects from far behind still gets exactly the events it missed, with their ids.
// Log lines, the bulk, are kept as (step, seq): 8 bytes each; their text is in the step's log
// file. The few other events (status, steps, notices, artifacts) are kept whole.
import type { ExecutionEvent } from './types.ts';

export type EvictedEntry =
  | { kind: 'event'; event: ExecutionEvent }
  | { kind: 'log'; step: string; seq: number }
  | { kind: 'missing' };

const SEQ_RANGE = 2 ** 32;
const NOT_A_LOG = -1;

export class EvictedEvents {
  /** Entry of event id k at k - 1: step index * 2^32 + seq for a log line, NOT_A_LOG otherwise. */
  #codes = new Float64Array(1024);
  #count = 0;
  readonly #others = new Map<number, ExecutionEvent>();
  readonly #steps: string[] = [];
  readonly #stepIndex = new Map<string, number>();

  /** Events 1..upTo have been evicted. */
  get upTo(): number {
    return this.#count;
  }

  /** Events must be added in id order, from 1. */
  add(event: ExecutionEvent): void {
    if (event.id !== this.#count + 1) {
      throw new Error(`evicted event ${event.id} out of order (expected ${this.#count + 1})`);
    }
    if (this.#count === this.#codes.length) {
      const grown = new Float64Array(this.#codes.length * 2);
      grown.set(this.#codes);
      this.#codes = grown;
    }
    if (event.type === 'log' && event.line.seq >= 0 && event.line.seq < SEQ_RANGE) {
      this.#codes[this.#count] = this.#indexOf(event.step) * SEQ_RANGE + event.line.seq;
    } else {
      this.#codes[this.#count] = NOT_A_LOG;
      this.#others.set(event.id, event);
    }
    this.#count += 1;
  }

  entry(id: number): EvictedEntry {
    const code = id >= 1 && id <= this.#count ? this.#codes[id - 1] : undefined;
    if (code === undefined) return { kind: 'missing' };
    if (code === NOT_A_LOG) {
      const event = this.#others.get(id);
      return event ? { kind: 'event', event } : { kind: 'missing' };
    }
    const step = this.#steps[Math.floor(code / SEQ_RANGE)];
    return step === undefined ? { kind: 'missing' } : { kind: 'log', step, seq: code % SEQ_RANGE };
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
