// A cheap, linear look at how deeply a YAML text nests, run BEFORE the yaml parser: the
// parser composes nodes recursively, and 500k nested `[` (or `- - - ...`) would take it
// seconds or exhaust the stack. The estimate counts nested collections and errs low (it
// never counts a level YAML would not create, bar freak multi-line plain scalars); the
// exact limit is enforced again on the parsed tree.

export const MAX_NESTING = 64;

type Quote = '"' | "'";

interface ScanState {
  text: string;
  limit: number;
  /** Columns of the open block collections, innermost last. */
  indents: number[];
  /** Open flow collections (`[`, `{`) and the block depth they started at. */
  flow: number;
  flowBase: number;
  flowLineIndent: number;
  lineStart: number;
  /** Set while inside a quoted scalar that spans lines. */
  quote?: Quote;
  /** Set while skipping a block scalar's lines: the indent of the line that opened it, and
   * the indent of its content once the first content line fixed it. */
  blockScalarParent?: number;
  blockScalarIndent?: number;
  excess?: number;
}

const isBlank = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r';
const isEnd = (c: string | undefined) => c === undefined || c === '\n' || c === '\r';
const separates = (c: string | undefined) => isBlank(c) || isEnd(c);

/** Offset at which the text first nests deeper than `limit` collections, or undefined. */
export function findExcessNesting(text: string, limit: number = MAX_NESTING): number | undefined {
  const state: ScanState = {
    text,
    limit,
    indents: [],
    flow: 0,
    flowBase: 0,
    flowLineIndent: 0,
    lineStart: 0,
  };
  let lineStart = 0;
  while (lineStart <= text.length && state.excess === undefined) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    scanLine(state, lineStart, lineEnd);
    lineStart = lineEnd + 1;
  }
  return state.excess;
}

function scanLine(s: ScanState, start: number, end: number): void {
  const { text } = s;
  s.lineStart = start;
  let indent = 0;
  while (text[start + indent] === ' ') indent++;
  let first = start + indent;
  while (first < end && isBlank(text[first])) first++;
  const blank = first >= end;

  if (s.blockScalarParent !== undefined) {
    if (blank) return;
    s.blockScalarIndent ??= indent > s.blockScalarParent ? indent : undefined;
    if (s.blockScalarIndent !== undefined && indent >= s.blockScalarIndent) return;
    s.blockScalarParent = undefined;
    s.blockScalarIndent = undefined;
  }
  if (s.quote !== undefined) {
    const after = closeQuote(text, start, end, s.quote);
    if (after === -1) return;
    s.quote = undefined;
    if (s.flow > 0) scanFlow(s, after, end);
    else afterValue(s, after, end, s.indents.length, indent);
    return;
  }
  if (s.flow > 0) {
    scanFlow(s, start, end);
    return;
  }
  if (blank || text[first] === '#') return;
  if (
    indent === 0 &&
    (text.startsWith('---', start) || text.startsWith('...', start)) &&
    separates(text[start + 3])
  ) {
    s.indents = [];
    valueStart(s, start + 3, end, 0, 0);
    return;
  }
  if (indent === 0 && text[start] === '%') return;
  while (s.indents.length > 0 && (s.indents[s.indents.length - 1] ?? 0) > indent) s.indents.pop();
  if (s.indents.length === 0 || (s.indents[s.indents.length - 1] ?? 0) < indent) s.indents.push(indent);
  if (s.indents.length > s.limit) {
    s.excess = start + indent;
    return;
  }
  valueStart(s, start + indent, end, s.indents.length, indent);
}

/**
 * Scans where a node may begin: indicators, properties, then one scalar or collection.
 * `nodeCol` is the column of the node that owns this value: a block scalar's content must
 * be indented past it.
 */
function valueStart(s: ScanState, from: number, end: number, base: number, nodeCol: number): void {
  const { text } = s;
  let pos = from;
  let lineIndent = nodeCol;
  // The first `-`/`?` on a line belongs to the collection its indent already counted.
  let indicators = 0;
  let afterIndicator = false;
  for (;;) {
    while (pos < end && isBlank(text[pos])) pos++;
    if (pos >= end) return;
    if (afterIndicator) lineIndent = pos - s.lineStart;
    afterIndicator = false;
    const c = text[pos];
    const depth = base + Math.max(0, indicators - 1);
    if ((c === '-' || c === '?' || c === ':') && separates(text[pos + 1])) {
      if (c !== ':') indicators++;
      if (base + Math.max(0, indicators - 1) > s.limit) {
        s.excess = pos;
        return;
      }
      pos++;
      afterIndicator = c !== ':';
    } else if (c === '#') {
      return;
    } else if (c === '[' || c === '{') {
      s.flowBase = depth;
      s.flowLineIndent = lineIndent;
      scanFlow(s, pos, end);
      return;
    } else if (c === '"' || c === "'") {
      const after = closeQuote(text, pos + 1, end, c);
      if (after === -1) {
        s.quote = c;
        return;
      }
      afterValue(s, after, end, depth, lineIndent);
      return;
    } else if (c === '|' || c === '>') {
      s.blockScalarParent = lineIndent;
      s.blockScalarIndent = undefined;
      return;
    } else if (c === '&' || c === '!' || c === '*') {
      while (pos < end && !isBlank(text[pos])) pos++;
      if (c === '*') {
        afterValue(s, pos, end, depth, lineIndent);
        return;
      }
    } else {
      // A plain scalar: brackets and quotes inside it are text. It ends at `: ` (it was a
      // key, a value follows) or ` #`.
      const colon = plainKeyEnd(text, pos, end);
      if (colon === -1) return;
      pos = colon + 1;
      base = depth;
      indicators = 0;
    }
  }
}

function afterValue(s: ScanState, from: number, end: number, depth: number, lineIndent: number): void {
  let pos = from;
  while (pos < end && isBlank(s.text[pos])) pos++;
  if (s.text[pos] === ':' && separates(s.text[pos + 1])) valueStart(s, pos + 1, end, depth, lineIndent);
}

function plainKeyEnd(text: string, from: number, end: number): number {
  for (let pos = from; pos < end; pos++) {
    const c = text[pos];
    if (c === ':' && separates(text[pos + 1])) return pos;
    if (c === '#' && isBlank(text[pos - 1])) return -1;
  }
  return -1;
}

function scanFlow(s: ScanState, from: number, end: number): void {
  const { text } = s;
  let tokenStart = true;
  for (let pos = from; pos < end; pos++) {
    const c = text[pos];
    if (c === '[' || c === '{') {
      s.flow++;
      if (s.flowBase + s.flow > s.limit) {
        s.excess = pos;
        return;
      }
      tokenStart = true;
    } else if (c === ']' || c === '}') {
      s.flow = Math.max(0, s.flow - 1);
      tokenStart = false;
      if (s.flow === 0) {
        afterValue(s, pos + 1, end, s.flowBase, s.flowLineIndent);
        return;
      }
    } else if (c === ',' || c === ':') {
      tokenStart = true;
    } else if ((c === '"' || c === "'") && tokenStart) {
      const after = closeQuote(text, pos + 1, end, c);
      if (after === -1) {
        s.quote = c;
        return;
      }
      pos = after - 1;
      tokenStart = false;
    } else if (c === '#' && (pos === 0 || isBlank(text[pos - 1]) || text[pos - 1] === '\n')) {
      return;
    } else if (!isBlank(c)) {
      tokenStart = false;
    }
  }
}

/** Offset just past the closing quote, or -1 when the scalar goes on past this line. */
function closeQuote(text: string, from: number, end: number, quote: Quote): number {
  for (let pos = from; pos < end; pos++) {
    const c = text[pos];
    if (quote === '"' && c === '\\') pos++;
    else if (c === quote) {
      if (quote === "'" && text[pos + 1] === "'") pos++;
      else return pos + 1;
    }
  }
  return -1;
}
