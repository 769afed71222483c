// Walks the parsed YAML tree once: rejects what the data model must never see (merge keys,
// prototype keys, duplicates, runaway aliases, excessive depth) and builds the plain data
// the schema and rules check. Aliases are followed here, with a budget, instead of by
// yaml's toJS: its alias lookup scans the document for every alias.
import type { Alias, Document, Node } from 'yaml';
import { isAlias, isCollection, isMap, isPair, isScalar } from 'yaml';
import type { LintCode } from './codes.ts';
import { MAX_NESTING } from './nesting.ts';
import type { PathSegment, Reporter } from './report.ts';
import { keyText } from './report.ts';

/** Nodes that aliases may add to the data in total; billion-laughs files need millions. */
export const MAX_ALIAS_EXPANSION = 20_000;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface TreeResult {
  /** Plain data, or undefined when the tree is unsafe to expand (bomb, cycle, depth). */
  data?: unknown;
  aliasTargets: Map<Alias, Node>;
}

interface Walked {
  value: unknown;
  /** Nodes in the expanded value, and its depth in collections. */
  size: number;
  height: number;
}

class TreeWalk {
  readonly aliasTargets = new Map<Alias, Node>();
  readonly #anchors = new Map<string, Node>();
  readonly #walked = new Map<Node, Walked>();
  readonly #open = new Set<Node>();
  fatal = false;

  constructor(
    readonly reporter: Reporter,
    readonly budget: AliasBudget,
  ) {}

  #fail(code: LintCode, path: PathSegment[], message: string, node: Node) {
    this.fatal = true;
    this.reporter.atOffset('error', code, path, message, node.range?.[0]);
  }

  walk(node: unknown, path: PathSegment[], depth: number): Walked {
    const empty: Walked = { value: null, size: 1, height: 0 };
    if (this.fatal || node === null || node === undefined) return empty;
    if (isAlias(node)) return this.#alias(node, path, depth);
    if (!isScalar(node) && !isCollection(node)) return empty;
    if (node.anchor) {
      this.#anchors.set(node.anchor, node);
      this.#open.add(node);
    }
    let walked: Walked;
    if (isScalar(node)) {
      walked = { value: plainScalar(node.value, node.source), size: 1, height: 0 };
    } else if (depth + 1 > MAX_NESTING) {
      this.#fail('GBCMS_YAML_TOO_DEEP', path, `nesting goes deeper than ${MAX_NESTING} levels`, node);
      return empty;
    } else if (isMap(node)) {
      walked = this.#map(node.items, path, depth);
    } else {
      walked = this.#seq(node.items, path, depth);
    }
    if (node.anchor) {
      this.#open.delete(node);
      this.#walked.set(node, walked);
    }
    return walked;
  }

  #alias(alias: Alias, path: PathSegment[], depth: number): Walked {
    const empty: Walked = { value: null, size: 1, height: 0 };
    const target = this.#anchors.get(alias.source);
    if (!target) {
      this.#fail(
        'GBCMS_YAML_UNKNOWN_ALIAS',
        path,
        `alias *${alias.source} refers to no anchor &${alias.source} above it`,
        alias,
      );
      return empty;
    }
    if (this.#open.has(target)) {
      this.#fail(
        'GBCMS_YAML_RECURSIVE_ALIAS',
        path,
        `alias *${alias.source} is inside the node it refers to`,
        alias,
      );
      return empty;
    }
    const walked = this.#walked.get(target) ?? empty;
    this.aliasTargets.set(alias, target);
    this.budget.expanded += walked.size;
    if (this.budget.expanded > MAX_ALIAS_EXPANSION) {
      this.#fail(
        'GBCMS_YAML_ALIAS_BOMB',
        path,
        `aliases expand to more than ${MAX_ALIAS_EXPANSION} nodes; this looks like a "billion laughs" file`,
        alias,
      );
      return empty;
    }
    if (depth + walked.height > MAX_NESTING) {
      this.#fail(
        'GBCMS_YAML_TOO_DEEP',
        path,
        `alias *${alias.source} nests deeper than ${MAX_NESTING} levels`,
        alias,
      );
      return empty;
    }
    // A copy: the data stays a tree, so nothing downstream sees one change show up twice.
    return { ...walked, value: structuredClone(walked.value) };
  }

  #map(items: readonly unknown[], path: PathSegment[], depth: number): Walked {
    const value: Record<string, unknown> = {};
    const seen = new Map<string, Node>();
    let size = 1;
    let height = 1;
    for (const pair of items) {
      if (!isPair(pair)) continue;
      const key = keyText(pair.key);
      if (key === undefined) {
        const where = isNodeLike(pair.key) ? pair.key : isNodeLike(pair.value) ? pair.value : undefined;
        this.reporter.atOffset(
          'error',
          'GBCMS_YAML_COMPLEX_KEY',
          path,
          pair.key === null
            ? 'a value without a key'
            : 'mapping keys must be plain strings, not lists, mappings or aliases',
          where?.range?.[0],
        );
      }
      const keyNode = isNodeLike(pair.key) ? pair.key : undefined;
      const childPath = key === undefined ? path : [...path, key];
      const rejected = key === undefined || this.#rejectKey(key, keyNode, path, seen);
      const child = this.walk(pair.value, childPath, depth + 1);
      if (this.fatal) break;
      size += child.size;
      height = Math.max(height, child.height + 1);
      if (!rejected && key !== undefined) value[key] = child.value;
    }
    return { value, size, height };
  }

  /** Reports a key the data must not contain; true when the pair is left out of the data. */
  #rejectKey(key: string, keyNode: Node | undefined, path: PathSegment[], seen: Map<string, Node>): boolean {
    const offset = keyNode?.range?.[0];
    if (key === '<<') {
      this.reporter.atOffset(
        'error',
        'GBCMS_YAML_MERGE_KEY',
        path,
        "'<<' merge keys are not supported; repeat the keys or use an anchor for the whole value",
        offset,
      );
      return true;
    }
    if (FORBIDDEN_KEYS.has(key)) {
      this.reporter.atOffset(
        'error',
        'GBCMS_YAML_FORBIDDEN_KEY',
        path,
        `'${key}' is not allowed as a key`,
        offset,
      );
      return true;
    }
    const first = seen.get(key);
    if (first) {
      const line = first.range ? this.reporter.lineOf(first.range[0]) : undefined;
      this.reporter.atOffset(
        'error',
        'GBCMS_YAML_DUPLICATE_KEY',
        path,
        `duplicate key '${key}'${line === undefined ? '' : ` (first on line ${line})`}`,
        offset,
      );
      return true;
    }
    if (keyNode) seen.set(key, keyNode);
    return false;
  }

  #seq(items: readonly unknown[], path: PathSegment[], depth: number): Walked {
    const value: unknown[] = [];
    let size = 1;
    let height = 1;
    for (const [index, item] of items.entries()) {
      // `[a: 1]` holds a pair directly; read it as the one-key mapping YAML says it is.
      const child = isPair(item)
        ? this.#map([item], [...path, index], depth + 1)
        : this.walk(item, [...path, index], depth + 1);
      if (this.fatal) break;
      size += child.size;
      height = Math.max(height, child.height + 1);
      value.push(child.value);
    }
    return { value, size, height };
  }
}

// Core-schema scalars are strings, numbers, booleans or null; a YAML 1.1 timestamp or
// binary would be a Date or bytes, which no pipeline field takes: keep such values as text.
function plainScalar(value: unknown, source: unknown): unknown {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value;
  return typeof source === 'string' ? source : String(value);
}

function isNodeLike(value: unknown): value is Node {
  return isScalar(value) || isCollection(value) || isAlias(value);
}

/** Checks the tree and returns its data, or no data when expanding it is unsafe. */
/**
 * Nodes aliases added so far. A pipeline and the files it includes share one budget: the
 * limit is on the data gbcms builds, however many files it comes from.
 */
export interface AliasBudget {
  expanded: number;
}

export function readTree(
  doc: Document.Parsed,
  reporter: Reporter,
  budget: AliasBudget = { expanded: 0 },
): TreeResult {
  const walk = new TreeWalk(reporter, budget);
  const { value } = walk.walk(doc.contents, [], 0);
  return walk.fatal ? { aliasTargets: walk.aliasTargets } : { data: value, aliasTargets: walk.aliasTargets };
}
