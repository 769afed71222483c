// How the cost of some work grows with the size of its input, measured here and now. A test
// that means "this stays linear" cannot say it with a time limit: a loaded machine breaks any
// limit a fast one meets. It can compare the work on one input GROWTH times larger with the
// same work done GROWTH times over on the small input, one right after the other (the fastest
// of a few tries each, so a pause during one try does not count). Load slows both alike; the
// ratio stays near 1 for linear work and nears GROWTH for quadratic work, more for a blow-up.
import assert from 'node:assert/strict';

/** How much larger the large input is than the small one. */
export const GROWTH = 16;
/**
 * The most linear work may cost on the large input, relative to GROWTH runs on the small one:
 * four times leaves room for load, caches and garbage collection, and is still four times
 * less than what quadratic work would cost.
 */
export const LINEAR_BOUND = 4;

export interface Growth {
  /** Fastest try of GROWTH runs on the small input, in ms. */
  small: number;
  /** Fastest try of one run on the large input, in ms. */
  large: number;
  ratio: number;
}

function timed(work: () => void): number {
  const started = performance.now();
  work();
  return performance.now() - started;
}

/**
 * Times `work` on `input(GROWTH * size)` once, and on `input(size)` GROWTH times over, `tries`
 * times each after a warm-up; making the inputs is not timed.
 */
export function growth<T>(
  input: (size: number) => T,
  work: (input: T) => void,
  size: number,
  tries = 3,
): Growth {
  const smallInput = input(size);
  const largeInput = input(GROWTH * size);
  const smallRuns = () => {
    for (let i = 0; i < GROWTH; i++) work(smallInput);
  };
  smallRuns();
  let small = Number.POSITIVE_INFINITY;
  let large = Number.POSITIVE_INFINITY;
  for (let i = 0; i < tries; i++) {
    small = Math.min(small, timed(smallRuns));
    large = Math.min(
      large,
      timed(() => work(largeInput)),
    );
  }
  return { small, large, ratio: large / small };
}

/** Fails unless `work` costs about as much per unit of input at GROWTH × `size` as at `size`. */
export function assertLinear<T>(
  what: string,
  input: (size: number) => T,
  work: (input: T) => void,
  size: number,
  tries = 3,
): Growth {
  const measured = growth(input, work, size, tries);
  assert.ok(
    measured.ratio < LINEAR_BOUND,
    `${what}: once on a ${GROWTH}× larger input took ${measured.ratio.toFixed(1)}× as long as ${GROWTH} times on ` +
      `the small one (${measured.large.toFixed(1)} ms against ${measured.small.toFixed(1)} ms); linear work stays under ${LINEAR_BOUND}×`,
  );
  return measured;
}
