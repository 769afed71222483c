// How many executions fetch their source and read their pipeline file at once. They do so before
// they wait for a slot (their concurrency group must be known by then): without a bound, a flood
// of pending executions would fetch every commit at the same time. First come, first served.

export class ReadLimit {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`the read limit must be a whole number of at least 1, not ${limit}`);
    }
    this.#free = limit;
  }

  /** Resolves with the release function once it may read; undefined when `signal` aborted first. */
  acquire(signal: AbortSignal): Promise<(() => void) | undefined> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(undefined);
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.#release();
        });
      };
      const onAbort = () => {
        const index = this.#waiting.indexOf(grant);
        if (index !== -1) this.#waiting.splice(index, 1);
        resolve(undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.#free > 0) {
        this.#free -= 1;
        grant();
      } else {
        this.#waiting.push(grant);
      }
    });
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free += 1;
  }
}
