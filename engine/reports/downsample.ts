// Keeps a step's point series (each metric, and the progress) from flooding observers and the
// reports file. A series keeps every point until `budget` have been kept; then every 2nd point
// of what follows, and after `budget` more, every 4th, and so on. The kept count grows with
// the logarithm of what arrives, and the state is two numbers per series, whatever the rate.

interface Series {
  /** Keep one point in this many. */
  stride: number;
  /** Points kept since the stride last changed. */
  kept: number;
  /** Points still to drop before the next one is kept. */
  skip: number;
}

export interface Admission {
  keep: boolean;
  /** Set on the point after which this series first thins out: the new stride. */
  thinnedTo?: number;
}

export class Downsampler {
  readonly #budget: number;
  readonly #series = new Map<string, Series>();

  constructor(budget: number) {
    if (!(Number.isInteger(budget) && budget > 0)) throw new RangeError('budget must be a whole number > 0');
    this.#budget = budget;
  }

  /** Number of series seen so far. */
  get size(): number {
    return this.#series.size;
  }

  has(key: string): boolean {
    return this.#series.has(key);
  }

  /** Whether the next point of series `key` is kept. */
  admit(key: string): Admission {
    let series = this.#series.get(key);
    if (!series) {
      series = { stride: 1, kept: 0, skip: 0 };
      this.#series.set(key, series);
    }
    if (series.skip > 0) {
      series.skip -= 1;
      return { keep: false };
    }
    series.kept += 1;
    let thinnedTo: number | undefined;
    if (series.kept >= this.#budget) {
      series.stride *= 2;
      series.kept = 0;
      if (series.stride === 2) thinnedTo = 2;
    }
    series.skip = series.stride - 1;
    return thinnedTo === undefined ? { keep: true } : { keep: true, thinnedTo };
  }
}
