// What a log search asks for, read from what a visitor typed: words, and "quoted phrases".
// Only letters and digits survive (the full-text indexes split on everything else anyway),
// so no user text ever reaches a full-text query language as syntax: FTS5 and
// websearch_to_tsquery both get the same quoted phrases. Pure, shared by the store (the query)
// and the pages (highlighting).

/** Longer queries are refused: the cost of a search grows with its terms. */
export const MAX_QUERY_CHARS = 200;
export const MAX_QUERY_PHRASES = 10;

/** Each phrase is one or more words, lower-cased; a line matches when it holds every phrase. */
export interface SearchQuery {
  phrases: string[][];
}

/** A query nobody can run: 400 with its message. */
export class SearchQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchQueryError';
  }
}

const WORD = /[\p{L}\p{N}]+/gu;

function words(text: string): string[] {
  return (text.match(WORD) ?? []).map((word) => word.toLowerCase());
}

/** Throws SearchQueryError for an empty, too long or wordless query. */
export function parseSearchQuery(input: string): SearchQuery {
  const text = input.trim();
  if (text === '') throw new SearchQueryError('q: type something to search for');
  if (text.length > MAX_QUERY_CHARS)
    throw new SearchQueryError(`q: at most ${MAX_QUERY_CHARS} characters, not ${text.length}`);
  const phrases: string[][] = [];
  // Odd parts sit between double quotes: phrases; even parts are loose words.
  text.split('"').forEach((part, index) => {
    if (index % 2 === 1) {
      const phrase = words(part);
      if (phrase.length > 0) phrases.push(phrase);
    } else {
      for (const word of words(part)) phrases.push([word]);
    }
  });
  if (phrases.length === 0) throw new SearchQueryError('q: no letters or digits to search for');
  if (phrases.length > MAX_QUERY_PHRASES)
    throw new SearchQueryError(`q: at most ${MAX_QUERY_PHRASES} words or phrases, not ${phrases.length}`);
  return { phrases };
}

/**
 * The query as quoted phrases (`"npm err" "exit"`): valid FTS5 MATCH syntax, and valid
 * websearch_to_tsquery input, with every phrase required.
 */
export function quotedPhrases(query: SearchQuery): string {
  return query.phrases.map((phrase) => `"${phrase.join(' ')}"`).join(' ');
}

/**
 * Where the query's phrases occur in a line, as sorted, non-overlapping [start, end) ranges:
 * whole words only, any case, the words of a phrase separated by anything that is not one.
 */
export function matchRanges(text: string, query: SearchQuery): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  for (const phrase of query.phrases) {
    // Words hold only letters and digits: nothing in them needs escaping.
    const pattern = new RegExp(
      `(?<![\\p{L}\\p{N}])${phrase.join('[^\\p{L}\\p{N}]+')}(?![\\p{L}\\p{N}])`,
      'giu',
    );
    for (const match of text.matchAll(pattern)) found.push([match.index, match.index + match[0].length]);
  }
  found.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: Array<[number, number]> = [];
  for (const range of found) {
    const last = merged.at(-1);
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return merged;
}
