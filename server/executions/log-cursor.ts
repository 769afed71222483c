// Reads one step's log file forward, line by line, to find lines by their seq. Catching a
// subscriber up asks for increasing seqs of each step, so one pass over the file serves them all.
import { type LogLine, readLogLines } from '../../engine/logs/log-line.ts';

export class LogCursor {
  readonly #lines: AsyncGenerator<LogLine> | undefined;
  #peeked: LogLine | undefined;
  #done: boolean;

  /** `file` undefined: a step whose log is not known, every lookup misses. */
  constructor(file: string | undefined) {
    this.#lines = file === undefined ? undefined : readLogLines(file);
    this.#done = file === undefined;
  }

  /**
   * The line with this seq, or undefined when the file does not have it (not written yet, torn,
   * or the file is gone). Seqs must be asked in increasing order.
   */
  async lineAt(seq: number): Promise<LogLine | undefined> {
    for (;;) {
      if (this.#peeked === undefined) {
        const next = await this.#next();
        if (next === undefined) return undefined;
        this.#peeked = next;
      }
      const line: LogLine = this.#peeked;
      if (line.seq < seq) {
        this.#peeked = undefined;
        continue;
      }
      if (line.seq > seq) return undefined;
      this.#peeked = undefined;
      return line;
    }
  }

  async close(): Promise<void> {
    this.#done = true;
    await this.#lines?.return(undefined);
  }

  async #next(): Promise<LogLine | undefined> {
    if (this.#done || this.#lines === undefined) return undefined;
    try {
      const result = await this.#lines.next();
      if (result.done) this.#done = true;
      return result.done ? undefined : result.value;
    } catch {
      // A missing or unreadable file: nothing more to read from it.
      this.#done = true;
      return undefined;
    }
  }
}
