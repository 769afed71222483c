// Turns findings into positioned diagnostics. A finding names a path in the data
// (`['steps', 'test', 'timeout']`); the locator finds the YAML node at that path so the
// diagnostic points at the line and column a person has to edit.
import type { Alias, Document, LineCounter, Node, Pair, YAMLMap } from 'yaml';
import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import { type Diagnostic, type Severity, sortDiagnostics } from '../diagnostics.ts';
import type { LintCode } from './codes.ts';
import type { TextPosition } from './text-guards.ts';

export type PathSegment = string | number;

/** Whether a finding is about a mapping key (unknown key, duplicate) or the value under it. */
export type Anchor = 'key' | 'value';

/** `steps.test.artifacts.1`: how messages and Diagnostic.path name a place in the file. */
export function dottedPath(path: readonly PathSegment[]): string {
  return path.join('.');
}

/** The text of a plain mapping key, the same way the linter reads it into data. */
export function keyText(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  const { value, source } = key;
  if (value === null || value === undefined) return '';
  // A YAML 1.1 document reads `<<` as a merge symbol: keep the text, so it is rejected by name.
  if (typeof value === 'symbol') return typeof source === 'string' ? source : value.description;
  return String(value);
}

export class Locator {
  readonly #doc: Document.Parsed;
  readonly #aliases: ReadonlyMap<Alias, Node>;
  readonly #keys = new WeakMap<YAMLMap, Map<string, Pair>>();

  constructor(doc: Document.Parsed, aliasTargets: ReadonlyMap<Alias, Node>) {
    this.#doc = doc;
    this.#aliases = aliasTargets;
  }

  /**
   * Offset of the node at `path`. A path that leaves the tree (it reached data through a
   * structure the tree cannot follow) gives the deepest node found on the way.
   */
  offset(path: readonly PathSegment[], anchor: Anchor): number | undefined {
    let node: unknown = this.#doc.contents;
    let key: unknown = node;
    for (const segment of path) {
      node = this.#resolve(node);
      if (isMap(node)) {
        const pair = this.#pair(node, String(segment));
        if (!pair) break;
        key = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment];
        if (item === undefined) break;
        key = item;
        node = item;
      } else {
        break;
      }
    }
    const start = (value: unknown) => (isNodeWithRange(value) ? value.range[0] : undefined);
    // `key:` with nothing after it: the empty value sits past the colon; the key is what
    // a person looks for.
    const empty = isScalar(node) && node.value === null && node.source === '';
    return anchor === 'key' || empty ? (start(key) ?? start(node)) : (start(node) ?? start(key));
  }

  #resolve(node: unknown): unknown {
    return isAlias(node) ? (this.#aliases.get(node) ?? node) : node;
  }

  #pair(map: YAMLMap, key: string): Pair | undefined {
    let index = this.#keys.get(map);
    if (!index) {
      index = new Map();
      for (const item of map.items) {
        const text = isPair(item) ? keyText(item.key) : undefined;
        if (text !== undefined && !index.has(text)) index.set(text, item);
      }
      this.#keys.set(map, index);
    }
    return index.get(key);
  }
}

function isNodeWithRange(value: unknown): value is { range: [number, number, number] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    'range' in value &&
    Array.isArray(value.range) &&
    typeof value.range[0] === 'number'
  );
}

/** Where a finding points: a file, and a line and column in it when the node was found. */
export interface Place {
  file: string;
  position?: TextPosition;
}

/**
 * Finds the place of a path in the data. One file's finder is a Locator with its line
 * counter; data assembled from several files (includes, templates) routes each path to the
 * file where it was written (lint/origins.ts).
 */
export interface PlaceFinder {
  place(path: readonly PathSegment[], anchor: Anchor): Place;
}

/** One parsed file: its name, its lines and its tree. */
export class FileLocator implements PlaceFinder {
  constructor(
    readonly file: string,
    readonly lines: LineCounter,
    readonly locator: Locator,
  ) {}

  place(path: readonly PathSegment[], anchor: Anchor): Place {
    const offset = this.locator.offset(path, anchor);
    return { file: this.file, position: offset === undefined ? undefined : this.lines.linePos(offset) };
  }
}

/** Problems listed per file; past it they are counted. A flood of findings helps nobody. */
export const MAX_DIAGNOSTICS = 100;

/** Where a finding with no place of its own points: the file's start, so editors still link it. */
const FILE_START: TextPosition = { line: 1, col: 1 };

export class Reporter {
  readonly #kept: Diagnostic[] = [];
  #dropped = 0;
  #droppedErrors = 0;
  #firstDropped?: TextPosition;
  /** The pipeline file: the overflow summary names it. */
  readonly #root: string;
  /** The file being read: findings on its text are about it (an included file in turn). */
  #file: string;
  #lines?: LineCounter;
  #places?: PlaceFinder;

  constructor(file: string) {
    this.#root = file;
    this.#file = file;
  }

  /** Findings on text from here on are about `file` (an included file, then the next). */
  useFile(file: string): void {
    this.#file = file;
    this.#lines = undefined;
    this.#places = undefined;
  }

  /** Once the text is parsed: offsets become lines and columns through this counter. */
  useLines(lines: LineCounter): void {
    this.#lines = lines;
  }

  /** Line number of an offset in the parsed text. */
  lineOf(offset: number): number | undefined {
    return this.#lines?.linePos(offset).line;
  }

  /** Once the data is built: paths become places through this finder. */
  usePlaces(places: PlaceFinder): void {
    this.#places = places;
  }

  /**
   * The findings sorted by position, at most MAX_DIAGNOSTICS of them, then one that counts the
   * rest (from the first one left out). Every one has a line and a column.
   */
  get diagnostics(): Diagnostic[] {
    const kept = sortDiagnostics(this.#kept);
    if (this.#dropped === 0) return kept;
    const where = this.#firstDropped ?? FILE_START;
    const errors = this.#droppedErrors === 0 ? '' : `, ${this.#droppedErrors} of them errors`;
    kept.push({
      severity: this.#droppedErrors > 0 ? 'error' : 'warning',
      code: 'GBCMS_TOO_MANY_DIAGNOSTICS',
      message: `and ${this.#dropped} more problems${errors}, not listed; fix these first`,
      file: this.#root,
      path: '',
      line: where.line,
      col: where.col,
    });
    return kept;
  }

  /** Adds a diagnostic at a line and column; without one it points at the file's start. */
  add(
    severity: Severity,
    code: LintCode,
    path: readonly PathSegment[],
    message: string,
    position: TextPosition = FILE_START,
    file: string = this.#file,
  ): void {
    if (this.#kept.length >= MAX_DIAGNOSTICS) {
      this.#dropped += 1;
      if (severity === 'error') this.#droppedErrors += 1;
      this.#firstDropped ??= position;
      return;
    }
    const dotted = dottedPath(path);
    this.#kept.push({
      severity,
      code,
      message: dotted === '' ? message : `${dotted}: ${message}`,
      file,
      path: dotted,
      line: position.line,
      col: position.col,
    });
  }

  /** Adds a diagnostic at an offset in the parsed text. */
  atOffset(
    severity: Severity,
    code: LintCode,
    path: readonly PathSegment[],
    message: string,
    offset: number | undefined,
  ): void {
    this.add(severity, code, path, message, offset === undefined ? undefined : this.#lines?.linePos(offset));
  }

  /** Adds a diagnostic positioned on the node at `path`. */
  at(
    severity: Severity,
    code: LintCode,
    path: readonly PathSegment[],
    message: string,
    anchor: Anchor = 'value',
  ): void {
    const place = this.#places?.place(path, anchor);
    this.add(severity, code, path, message, place?.position, place?.file);
  }

  error(code: LintCode, path: readonly PathSegment[], message: string, anchor: Anchor = 'value'): void {
    this.at('error', code, path, message, anchor);
  }

  warning(code: LintCode, path: readonly PathSegment[], message: string, anchor: Anchor = 'value'): void {
    this.at('warning', code, path, message, anchor);
  }
}
