// "Did you mean ...?" for misspelt keys, values and names.

/** Optimal string alignment distance: Levenshtein plus swapping two neighbours. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (before[j - 2] ?? 0) + 1);
      }
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// Case and separators rarely carry meaning in a typo: dependsOn, depends-on and DEPENDS_ON
// all mean depends_on.
function fold(word: string): string {
  return word.toLowerCase().replace(/[-_\s]/g, '');
}

/** The closest candidate when it is close enough to be a likely typo, else undefined. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > 200) return undefined;
  const folded = fold(word);
  const budget = folded.length <= 2 ? 0 : folded.length <= 4 ? 1 : folded.length <= 8 ? 2 : 3;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const other = fold(candidate);
    if (Math.abs(other.length - folded.length) > budget) continue;
    const distance = editDistance(folded, other);
    if (distance <= budget && (best === undefined || distance < best.distance))
      best = { candidate, distance };
  }
  return best?.candidate;
}

/** `; did you mean 'x'?` or '' when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = suggest(word, candidates);
  return match === undefined ? '' : `; did you mean '${match}'?`;
}

/**
 * Suggestions cost an edit distance per candidate: a hostile file with thousands of
 * unknown names among thousands of steps would make that quadratic. Past the budget,
 * messages simply come without a suggestion.
 */
export class SuggestionBudget {
  #left: number;

  constructor(suggestions = 100) {
    this.#left = suggestions;
  }

  didYouMean(word: string, candidates: Iterable<string>): string {
    if (this.#left <= 0) return '';
    this.#left--;
    return didYouMean(word, candidates);
  }
}
