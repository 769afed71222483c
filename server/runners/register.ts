// Registering a runner, the same from `gbcms runner register` and POST /api/runners: the name
// and labels checked with a message that says which and why, then a token of the runner kind.
import type { Runner, Store } from '../store/index.ts';

export const RUNNER_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$';
const NAME = new RegExp(RUNNER_NAME_PATTERN);

export class RunnerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunnerInputError';
  }
}

export class RunnerExistsError extends Error {
  constructor(name: string) {
    super(`a runner named '${name}' exists already`);
    this.name = 'RunnerExistsError';
  }
}

/** `a,b , c` -> [a, b, c]; throws RunnerInputError naming the first bad label. */
export function parseLabels(text: string): string[] {
  const labels = text
    .split(',')
    .map((label) => label.trim())
    .filter((label) => label !== '');
  checkLabels(labels);
  return labels;
}

export function checkLabels(labels: readonly string[]): void {
  for (const label of labels) {
    if (!NAME.test(label)) {
      throw new RunnerInputError(
        `label '${label}' must be letters, digits, '.', '_' or '-' (at most 63, starting with a letter or digit)`,
      );
    }
  }
}

export async function registerRunner(
  store: Store,
  input: { name: string; labels: readonly string[]; createdBy?: string | null },
): Promise<{ token: string; runner: Runner }> {
  if (!NAME.test(input.name)) {
    throw new RunnerInputError(
      `runner name '${input.name}' must be letters, digits, '.', '_' or '-' (at most 63, starting with a letter or digit)`,
    );
  }
  checkLabels(input.labels);
  if (await store.runners.byName(input.name)) throw new RunnerExistsError(input.name);
  return store.runners.create(input);
}
