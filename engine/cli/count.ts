// How the command line counts things: `1 step`, `2 steps`, never `1 steps` or `step(s)`.

/** `n` and the noun, singular for exactly one; `plural` for nouns that do not just take an s. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
