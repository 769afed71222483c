// Counts the work a synchronous function does on the built-in collections: every Map and Set
// lookup, insertion and deletion, every element an iterator hands out, and every element an
// array method may visit (a search counts the array's length). Pure code built on these
// collections does nothing without them, so the count grows with the work: linearly for a
// linear algorithm, quadratically for a quadratic one, whatever the machine's speed or load.
// Tests use it to state "linear" as a count, where a time limit would fail on a busy machine.
import assert from 'node:assert/strict';
import { GROWTH } from './growth.ts';

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** Methods that look at one entry. */
const POINT: [object, string[]][] = [
  [Map.prototype, ['get', 'set', 'has', 'delete']],
  [Set.prototype, ['add', 'has', 'delete']],
  [Array.prototype, ['push', 'pop', 'shift', 'unshift', 'at']],
];
/** Array methods that may visit every element. */
const SCANS = [
  'includes',
  'indexOf',
  'lastIndexOf',
  'find',
  'findIndex',
  'findLast',
  'findLastIndex',
  'some',
  'every',
  'filter',
  'map',
  'flatMap',
  'forEach',
  'reduce',
  'slice',
  'splice',
  'concat',
  'join',
  'fill',
  'reverse',
  'sort',
];
/** Iterators: one count per element handed out (for...of, spread, Array.from). */
const ITERATORS: object[] = [
  Object.getPrototypeOf([][Symbol.iterator]()),
  Object.getPrototypeOf(new Map()[Symbol.iterator]()),
  Object.getPrototypeOf(new Set()[Symbol.iterator]()),
];

/** Runs `work` and returns what it returned with the count of its operations. */
export function countWork<T>(work: () => T): { result: T; operations: number } {
  let operations = 0;
  const restore: (() => void)[] = [];
  const patch = (target: object, name: string, counted: (original: AnyFunction) => AnyFunction) => {
    const descriptor = Object.getOwnPropertyDescriptor(target, name);
    const original = descriptor?.value as AnyFunction | undefined;
    if (!descriptor || typeof original !== 'function') return;
    Object.defineProperty(target, name, { ...descriptor, value: counted(original) });
    restore.push(() => Object.defineProperty(target, name, descriptor));
  };
  for (const [target, names] of POINT) {
    for (const name of names) {
      patch(
        target,
        name,
        (original) =>
          function (this: unknown, ...args: unknown[]) {
            operations += 1;
            return original.apply(this, args);
          },
      );
    }
  }
  for (const name of SCANS) {
    patch(
      Array.prototype,
      name,
      (original) =>
        function (this: unknown, ...args: unknown[]) {
          operations += Math.max(1, (this as unknown[]).length);
          return original.apply(this, args);
        },
    );
  }
  for (const iterator of ITERATORS) {
    patch(
      iterator,
      'next',
      (original) =>
        function (this: unknown, ...args: unknown[]) {
          operations += 1;
          return original.apply(this, args);
        },
    );
  }
  try {
    // The patching above went through some of the patched methods: count from here.
    operations = 0;
    const result = work();
    return { result, operations };
  } finally {
    for (const undo of restore.reverse()) undo();
  }
}

/**
 * Fails unless `work` does at most twice GROWTH times the operations on `input(GROWTH × size)`
 * as on `input(size)`: linear work does GROWTH times as many, quadratic work GROWTH² times.
 */
export function assertLinearWork<T>(
  what: string,
  input: (size: number) => T,
  work: (input: T) => unknown,
  size: number,
): { small: number; large: number } {
  const small = input(size);
  const large = input(GROWTH * size);
  const counts = {
    small: countWork(() => work(small)).operations,
    large: countWork(() => work(large)).operations,
  };
  assert.ok(
    counts.large <= 2 * GROWTH * counts.small,
    `${what}: ${counts.small} operations on ${size}, ${counts.large} on ${GROWTH * size}; linear work does about ${GROWTH}× as many`,
  );
  return counts;
}
