// Matrix expansion: one step per combination of the axes, named after the combination, with
// `${{ matrix.AXIS }}` replaced in the texts the step is built from. Shared by the linter,
// which checks every combination with this same expansion so what passes lints compiles, and
// by the compiler, which plans them.
import type { Step } from './pipeline-file.generated.ts';

/** One combination: axis -> value as text, in the file's axis order. */
export type Combination = Record<string, string>;

/** Every combination, the first axis varying slowest: `{a: [1, 2], b: [x, y]}` -> 1x, 1y, 2x, 2y. */
export function matrixCombinations(matrix: NonNullable<Step['matrix']>): Combination[] {
  let combinations: Combination[] = [{}];
  for (const [axis, values] of Object.entries(matrix)) {
    combinations = combinations.flatMap((partial) =>
      values.map((value) => ({ ...partial, [axis]: String(value) })),
    );
  }
  return combinations;
}

/** `test (node=18, os=a)`: the unique name of one expansion. */
export function matrixStepName(baseName: string, combination: Combination): string {
  const parts = Object.entries(combination).map(([axis, value]) => `${axis}=${value}`);
  return `${baseName} (${parts.join(', ')})`;
}

/** `MATRIX_NODE=18` for each axis, so commands can read the combination without templating. */
export function matrixEnv(combination: Combination): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [axis, value] of Object.entries(combination)) env[`MATRIX_${axis.toUpperCase()}`] = value;
  return env;
}

/** `${{ matrix.AXIS }}`, the syntax substituteMatrix replaces; the linter checks the same references. */
export const MATRIX_REFERENCE = /\$\{\{\s*matrix\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/**
 * Replaces `${{ matrix.AXIS }}` with the combination's value. References to axes the step
 * does not have are left as written: the linter reports them, and a literal is easier to
 * spot in a log than an empty string.
 */
export function substituteMatrix(text: string, combination: Combination): string {
  return text.replace(MATRIX_REFERENCE, (whole, axis: string) =>
    Object.hasOwn(combination, axis) ? (combination[axis] ?? whole) : whole,
  );
}
