// Reads a JUnit XML report into test counts and the failed tests. Tolerant of the variants the
// common tools write: pytest (`<testsuites><testsuite>`, or a bare `<testsuite>` before 5.1),
// Maven Surefire (`<error>`, `<skipped/>`, `<system-out>`, `<flakyFailure>` on passed reruns),
// jest-junit (failures as text only) and Node's junit reporter (suites nested in suites, test
// cases straight under `<testsuites>`, `<skipped type="todo">`). Counts come from the test
// cases themselves, never from the suites' attributes, which the tools fill in differently.
//
// The file is the step's, so hostile until proven otherwise: a DOCTYPE (the door to entity
// expansion) is refused outright, the parser expands no entities (the five XML ones and
// character references are decoded here, in one pass), nesting is capped, and so is the size.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { FailedTest, TestsReport } from './types.ts';
import { REPORT_LIMITS } from './types.ts';

export type JunitTests = Omit<TestsReport, 'type' | 'time'>;
export type JunitResult = { ok: true; tests: JunitTests } | { ok: false; error: string };

export interface JunitLimits {
  maxBytes: number;
  failedTests: number;
  messageChars: number;
  outputChars: number;
}

const DEFAULT_LIMITS: JunitLimits = {
  maxBytes: REPORT_LIMITS.junitBytes,
  failedTests: REPORT_LIMITS.failedTests,
  messageChars: REPORT_LIMITS.textChars,
  outputChars: REPORT_LIMITS.failedOutputChars,
};

const ARRAYS: ReadonlySet<string> = new Set([
  'testsuite',
  'testcase',
  'failure',
  'error',
  'skipped',
  'system-out',
  'system-err',
]);
const CDATA = '#cdata';
const TEXT = '#text';
const ATTR = '@_';
/** Deeper than any real suite tree; a file nested past it is refused rather than walked. */
const MAX_DEPTH = 64;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  textNodeName: TEXT,
  cdataPropName: CDATA,
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  maxNestedTags: MAX_DEPTH * 2,
  isArray: (name, _path, _leaf, isAttribute) => !isAttribute && ARRAYS.has(name),
});

type Node = Record<string, unknown>;

export function parseJunit(xml: string, limits: Partial<JunitLimits> = {}): JunitResult {
  const limit = { ...DEFAULT_LIMITS, ...limits };
  if (Buffer.byteLength(xml) > limit.maxBytes) {
    return { ok: false, error: `the file is larger than ${limit.maxBytes} bytes` };
  }
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) {
    return {
      ok: false,
      error: 'the file declares a DOCTYPE or entities, which are refused (entity expansion)',
    };
  }
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    return { ok: false, error: `not well-formed XML: ${valid.err.msg} (line ${valid.err.line})` };
  }
  let document: unknown;
  try {
    document = parser.parse(xml);
  } catch (error) {
    return {
      ok: false,
      error: `could not read the XML: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (!isNode(document)) return { ok: false, error: 'no <testsuites> or <testsuite> element' };
  const root = isNode(document.testsuites)
    ? document.testsuites
    : Array.isArray(document.testsuite)
      ? { testsuite: document.testsuite }
      : undefined;
  if (!root) return { ok: false, error: 'no <testsuites> or <testsuite> element at the top' };

  const walk = new Walk(limit);
  if (!walk.container(root, [], 0)) {
    return { ok: false, error: `test suites are nested more than ${MAX_DEPTH} deep` };
  }
  return {
    ok: true,
    tests: {
      tests: walk.tests,
      failures: walk.failures,
      errors: walk.errors,
      skipped: walk.skipped,
      duration_ms: Math.round(durationSeconds(root) * 1000),
      failed: walk.failed,
    },
  };
}

class Walk {
  tests = 0;
  failures = 0;
  errors = 0;
  skipped = 0;
  readonly failed: FailedTest[] = [];

  constructor(private readonly limit: JunitLimits) {}

  /** Counts the cases in a suite (or the root) and its sub-suites; false when nested too deep. */
  container(node: Node, suites: string[], depth: number): boolean {
    if (depth > MAX_DEPTH) return false;
    for (const testcase of nodes(node.testcase)) this.testcase(testcase, suites);
    for (const suite of nodes(node.testsuite)) {
      const name = attribute(suite, 'name');
      if (!this.container(suite, name === '' ? suites : [...suites, name], depth + 1)) return false;
    }
    return true;
  }

  testcase(node: Node, suites: string[]): void {
    this.tests += 1;
    const failure = first(node.failure);
    const error = failure === undefined ? first(node.error) : undefined;
    if (failure === undefined && error === undefined) {
      if (node.skipped !== undefined) this.skipped += 1;
      return;
    }
    if (failure !== undefined) this.failures += 1;
    else this.errors += 1;
    if (this.failed.length >= this.limit.failedTests) return;
    const problem = failure ?? error;
    const body = text(problem).trim();
    const message =
      attribute(problem, 'message').trim() ||
      body
        .split('\n')
        .find((line) => line.trim() !== '')
        ?.trim() ||
      attribute(problem, 'type') ||
      (failure !== undefined ? 'failed' : 'error');
    const captured = [...list(node['system-out']), ...list(node['system-err'])]
      .map((part) => text(part).trim())
      .filter((part) => part !== '');
    const output = [body, ...captured].filter((part) => part !== '').join('\n\n');
    const entry: FailedTest = {
      suite: suites.join(' > '),
      name: attribute(node, 'name'),
      classname: attribute(node, 'classname'),
      message: cap(message, this.limit.messageChars),
    };
    if (output !== '') entry.output = cap(output, this.limit.outputChars);
    this.failed.push(entry);
  }
}

/** Seconds the whole file took: the root's own time, else its suites' and top-level cases'. */
function durationSeconds(root: Node): number {
  const own = seconds(root);
  if (own !== undefined) return own;
  let total = 0;
  for (const suite of nodes(root.testsuite)) total += seconds(suite) ?? caseSeconds(suite, 0);
  for (const testcase of nodes(root.testcase)) total += seconds(testcase) ?? 0;
  return total;
}

function caseSeconds(node: Node, depth: number): number {
  if (depth > MAX_DEPTH) return 0;
  let total = 0;
  for (const testcase of nodes(node.testcase)) total += seconds(testcase) ?? 0;
  for (const suite of nodes(node.testsuite)) total += seconds(suite) ?? caseSeconds(suite, depth + 1);
  return total;
}

function seconds(node: Node): number | undefined {
  const raw = attribute(node, 'time').replace(/,/g, '');
  if (raw === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function nodes(value: unknown): Node[] {
  return list(value).filter(isNode);
}

function first(value: unknown): unknown {
  return list(value)[0];
}

function attribute(node: unknown, name: string): string {
  if (!isNode(node)) return '';
  const value = node[`${ATTR}${name}`];
  return typeof value === 'string' ? decodeEntities(value) : '';
}

/** An element's text: its (decoded) text and CDATA sections; `<x/>` and `<x attr=""/>` give ''. */
function text(node: unknown): string {
  if (typeof node === 'string') return decodeEntities(node);
  if (!isNode(node)) return '';
  const own = node[TEXT];
  const plain = typeof own === 'string' ? decodeEntities(own) : '';
  const cdata = list(node[CDATA])
    .map((part) => (typeof part === 'string' ? part : ''))
    .join('');
  return plain.trim() === '' ? cdata : `${plain}${cdata}`;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** The five XML entities and character references, in one pass: `&amp;lt;` stays `&lt;`. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/g, (whole, name: string) => {
    if (name[0] !== '#') return NAMED[name] ?? whole;
    const code = name[1] === 'x' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
    const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
    return valid ? String.fromCodePoint(code) : whole;
  });
}

function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n... (cut at ${max} characters)`;
}
