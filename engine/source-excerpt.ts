// The lines of a file around a diagnostic's position, as a compiler shows them under its
// message: a reader sees the mistake in place without opening the file. Long lines (a minified
// or generated file) are cut to a window around the column, so an excerpt stays small.

export interface SourceExcerpt {
  /** The 1-based number of the first line in `lines`. */
  first: number;
  lines: string[];
  /** The line the diagnostic points at (1-based, within the file). */
  line: number;
  /** The column within `lines[line - first]`, 1-based, after any cut. */
  col: number;
}

/** Lines shown before and after the one pointed at. */
const CONTEXT_LINES = 2;
/** Characters kept of a line; a longer one keeps a window around the column. */
const MAX_LINE_CHARS = 160;
const CUT = '…';

/** The excerpt around `line`:`col` of `text`, or undefined when the file has no such line. */
export function sourceExcerpt(text: string, line: number, col = 1): SourceExcerpt | undefined {
  const all = text.split(/\r?\n/);
  if (!Number.isInteger(line) || line < 1 || line > all.length) return undefined;
  const first = Math.max(1, line - CONTEXT_LINES);
  const last = Math.min(all.length, line + CONTEXT_LINES);
  const start = windowStart(all[line - 1] ?? '', col);
  const lines = all.slice(first - 1, last).map((text) => cut(text, start));
  // Trailing empty lines say nothing; the pointed line always stays.
  while (lines.length > line - first + 1 && lines.at(-1)?.trim() === '') lines.pop();
  return { first, lines, line, col: Math.max(1, col - start + (start > 0 ? CUT.length : 0)) };
}

/** Where the kept window of the pointed line starts (0 = from the line's start). */
function windowStart(text: string, col: number): number {
  if (text.length <= MAX_LINE_CHARS) return 0;
  return Math.max(0, Math.min(col - 1 - MAX_LINE_CHARS / 2, text.length - MAX_LINE_CHARS));
}

function cut(text: string, start: number): string {
  const expanded = text.replace(/\t/g, ' ');
  const head = start > 0 ? CUT : '';
  const body = expanded.slice(start, start + MAX_LINE_CHARS);
  const tail = expanded.length > start + MAX_LINE_CHARS ? CUT : '';
  return `${head}${body}${tail}`;
}
