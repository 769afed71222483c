// A cheap, linear look at how deeply a YAML text nests, run BEFORE the yaml parser: the
// parser composes nodes recursively, and 500k nested `[` (or `- - - ...`) would take it
// seconds or exhaust the stack. The estimate counts nested collections the way the parsed
// tree does (the top-level mapping is level 1) and errs low where the text is ambiguous;
// the exact limit is enforced again on the parsed tree.

export const MAX_NESTING = 64;

type Quote = '"' | "'";

interface ScanState {
  text: string;
  limit: number;
  lineStart: number;
  /** Columns of the open block collections, innermost last. */
  indents: number[];
  /** Open flow collections (`[`, `{`) and the depth they started at. */
  flow: number;
  flowBase: number;
  /**
   * Value indicators seen in the current flow entry: in `{a: b: c: d}` each `key:` after the
   * first opens a mapping inside the last one, with no bracket to count.
   */
  flowChain: number;
  /** Set while inside a quoted scalar that spans lines. */
  quote?: Quote;
  /** Set while skipping a block scalar: the column of the node that owns it, and the
   * indent of its content once the first content line fixed it. */
  blockScalarParent?: number;
  blockScalarIndent?: number;
  excess?: number;
}

const isBlank = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r';
const isEnd = (c: string | undefined) => c === undefined || c === '\n' || c === '\r';
const separates = (c: string | undefined) => isBlank(c) || isEnd(c);

/** Offset at which the text first nests deeper than `limit` collections, or undefined. */
export function findExcessNesting(text: string, limit: number = MAX_NESTING): number | undefined {
  const state: ScanState = { text, limit, lineStart: 0, indents: [], flow: 0, flowBase: 0, flowChain: 0 };
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
    if (s.flow > 0) scanFlow(s, after, end, false);
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
    valueStart(s, start + 3, end, 0, 0, false);
    return;
  }
  if (indent === 0 && text[start] === '%') return;
  while (s.indents.length > 0 && (s.indents[s.indents.length - 1] ?? 0) > indent) s.indents.pop();
  const pushed = s.indents.length === 0 || (s.indents[s.indents.length - 1] ?? 0) < indent;
  if (pushed) s.indents.push(indent);
  const depth = s.indents.length - (pushed ? 1 : 0);
  // A more indented line opens a block collection only if it holds an entry (`- `, `key:`);
  // otherwise it continues a scalar or holds a flow node, and its indent means nothing.
  const entry = valueStart(s, start + indent, end, depth, indent, pushed);
  if (pushed && !entry) s.indents.pop();
}

/** What valueStart knows about the entries seen so far on one line. */
interface LineEntries {
  depth: number;
  confirmed: boolean;
  indicators: number;
  keySeen: boolean;
}

// Plain functions, not closures inside valueStart: it runs once per line, and under tsx each
// closure created per call costs a defineProperty (its keep-names helper), which made the
// scan of a 500,000-line file take seconds.
function deeper(s: ScanState, line: LineEntries, at: number): boolean {
  line.depth++;
  if (line.depth > s.limit) s.excess = at;
  return s.excess === undefined;
}

/** The first entry of a new line opens its collection; later ones nest (`- - x`, `- a: b`). */
function entry(s: ScanState, line: LineEntries, at: number, nested: boolean): boolean {
  if (!line.confirmed) {
    line.confirmed = true;
    return deeper(s, line, at);
  }
  return nested ? deeper(s, line, at) : true;
}

function key(s: ScanState, line: LineEntries, at: number): boolean {
  if (line.keySeen) return true;
  line.keySeen = true;
  return entry(s, line, at, line.indicators > 0);
}

/**
 * Scans where a node may begin on a block line: indicators, keys, properties, then one
 * scalar or flow collection. `depth` counts the collections open around it; `pending` says
 * the line's own block collection is not counted yet (it is once an entry shows it exists).
 * Returns whether the line turned out to hold a block entry.
 */
function valueStart(
  s: ScanState,
  from: number,
  end: number,
  depth: number,
  col: number,
  pending: boolean,
): boolean {
  const { text } = s;
  let pos = from;
  let nodeCol = col;
  const line: LineEntries = { depth, confirmed: !pending, indicators: 0, keySeen: false };
  for (;;) {
    while (pos < end && isBlank(text[pos])) pos++;
    if (pos >= end) return line.confirmed;
    const c = text[pos];
    if ((c === '-' || c === '?') && separates(text[pos + 1])) {
      if (!entry(s, line, pos, line.indicators > 0)) return line.confirmed;
      line.indicators++;
      // A block scalar after `- ` must be indented past the dash.
      nodeCol = pos - s.lineStart;
      pos++;
    } else if (c === ':' && separates(text[pos + 1])) {
      if (!entry(s, line, pos, false)) return line.confirmed;
      pos++;
    } else if (c === '#') {
      return line.confirmed;
    } else if (c === '[' || c === '{') {
      s.flowBase = line.depth;
      scanFlow(s, pos, end);
      return line.confirmed;
    } else if (c === '|' || c === '>') {
      s.blockScalarParent = nodeCol;
      s.blockScalarIndent = undefined;
      return line.confirmed;
    } else if (c === '&' || c === '!') {
      while (pos < end && !isBlank(text[pos])) pos++;
    } else {
      // A scalar. Quoted ones may span lines; plain ones hold brackets and quotes as text.
      // A scalar followed by `: ` was a key, and a value follows on this line.
      let after: number;
      if (c === '"' || c === "'") {
        after = closeQuote(text, pos + 1, end, c);
        if (after === -1) {
          s.quote = c;
          return line.confirmed;
        }
      } else if (c === '*') {
        after = pos;
        while (after < end && !isBlank(text[after])) after++;
      } else {
        const colon = plainKeyEnd(text, pos, end);
        if (colon === -1) return line.confirmed;
        after = colon;
      }
      while (after < end && isBlank(text[after])) after++;
      if (text[after] !== ':' || !separates(text[after + 1])) return line.confirmed;
      if (!key(s, line, pos)) return line.confirmed;
      nodeCol = pos - s.lineStart;
      pos = after + 1;
    }
  }
}

function plainKeyEnd(text: string, from: number, end: number): number {
  for (let pos = from; pos < end; pos++) {
    const c = text[pos];
    if (c === ':' && separates(text[pos + 1])) return pos;
    if (c === '#' && isBlank(text[pos - 1])) return -1;
  }
  return -1;
}

function scanFlow(s: ScanState, from: number, end: number, tokenStart = true): void {
  const { text } = s;
  // The last token was a quoted scalar or a closed collection: a JSON-like key, after which a
  // value may follow `:` with no blank. A quote inside a plain scalar (`-':"#`) is not one.
  let jsonLike = false;
  for (let pos = from; pos < end; pos++) {
    const c = text[pos];
    if (c === '[' || c === '{') {
      s.flow++;
      s.flowChain = 0;
      if (s.flowBase + s.flow > s.limit) {
        s.excess = pos;
        return;
      }
      tokenStart = true;
      jsonLike = false;
    } else if (c === ']' || c === '}') {
      s.flow = Math.max(0, s.flow - 1);
      s.flowChain = 0;
      tokenStart = false;
      jsonLike = true;
      // What follows a closed flow node on its line (a comment, `: value`) cannot nest
      // deeper than a new line would; ignoring it can only over-count later lines.
      if (s.flow === 0) return;
    } else if (c === ',') {
      s.flowChain = 0;
      tokenStart = true;
      jsonLike = false;
    } else if (c === ':') {
      // `a:b` is one plain scalar; a value starts after `: ` or right after a JSON-like key.
      tokenStart = separates(text[pos + 1]) || jsonLike;
      jsonLike = false;
      if (tokenStart) {
        s.flowChain++;
        if (s.flowBase + s.flow + s.flowChain - 1 > s.limit) {
          s.excess = pos;
          return;
        }
      }
    } else if ((c === '"' || c === "'") && tokenStart) {
      const after = closeQuote(text, pos + 1, end, c);
      if (after === -1) {
        s.quote = c;
        return;
      }
      pos = after - 1;
      tokenStart = false;
      jsonLike = true;
    } else if (c === '#' && (pos === s.lineStart || isBlank(text[pos - 1]))) {
      return;
    } else if (!isBlank(c)) {
      tokenStart = false;
      jsonLike = false;
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
