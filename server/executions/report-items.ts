// Reports as an external reporter sends them (JSON objects, the shapes of the protocol's JSON
// lines plus test results), checked with the engine's own rules: what a step may report through
// $GBCMS_REPORTS, a notebook may report over HTTP, and nothing else. Pure.
import { type ParseResult, parseReportJson } from '../../engine/reports/protocol.ts';
import { type FailedTest, REPORT_LIMITS, type Report, type TestsReport } from '../../engine/reports/types.ts';
import type { RefusedReport } from './types.ts';

/** Refusals listed in an answer; the count covers the rest. */
export const MAX_REFUSALS_LISTED = 100;

export interface ParsedItems {
  /** Valid items, in order, with their index in what was sent. */
  reports: { index: number; report: Report }[];
  refused: RefusedReport[];
}

/** Checks each item; `time` stamps those that carry no time of their own. */
export function parseReportItems(items: readonly unknown[], time: string): ParsedItems {
  const parsed: ParsedItems = { reports: [], refused: [] };
  items.forEach((item, index) => {
    const result = parseReportItem(item, time);
    if (result.ok) parsed.reports.push({ index, report: result.report });
    else parsed.refused.push({ index, error: result.error });
  });
  return parsed;
}

export function parseReportItem(item: unknown, time: string): ParseResult {
  if (isObject(item) && item.type === 'tests') return parseTests(item, time);
  // Through the reports-file parser, so the rules (and messages) are exactly the engine's.
  const result = parseReportJson(JSON.stringify(item) ?? 'undefined', time);
  if (!result.ok && result.error === 'type must be metric, progress or annotation') {
    return { ok: false, error: 'type must be metric, progress, annotation or tests' };
  }
  return result;
}

const TESTS_KEYS = new Set([
  'type',
  'time',
  'tests',
  'failures',
  'errors',
  'skipped',
  'duration_ms',
  'failed',
]);
const FAILED_KEYS = new Set(['suite', 'name', 'classname', 'message', 'output']);

function parseTests(item: Record<string, unknown>, time: string): ParseResult {
  for (const key of Object.keys(item)) {
    if (!TESTS_KEYS.has(key)) return { ok: false, error: `unknown field ${key}` };
  }
  const stamped = ownTime(item.time, time);
  if (stamped === undefined) return { ok: false, error: 'time must be an ISO 8601 date-time' };
  const counts: Record<'tests' | 'failures' | 'errors' | 'skipped', number> = {
    tests: 0,
    failures: 0,
    errors: 0,
    skipped: 0,
  };
  for (const key of ['tests', 'failures', 'errors', 'skipped'] as const) {
    const value = item[key];
    if (!isWhole(value)) return { ok: false, error: `tests: ${key} must be a whole number >= 0` };
    counts[key] = value;
  }
  const duration = item.duration_ms;
  if (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0) {
    return { ok: false, error: 'tests: duration_ms must be a number >= 0' };
  }
  const failed = item.failed ?? [];
  if (!Array.isArray(failed)) return { ok: false, error: 'tests: failed must be an array' };
  if (failed.length > REPORT_LIMITS.failedTests) {
    return { ok: false, error: `tests: at most ${REPORT_LIMITS.failedTests} failed tests` };
  }
  const cases: FailedTest[] = [];
  for (const [i, entry] of failed.entries()) {
    const failure = parseFailed(entry);
    if (typeof failure === 'string') return { ok: false, error: `tests: failed[${i}]: ${failure}` };
    cases.push(failure);
  }
  const report: TestsReport = {
    type: 'tests',
    time: stamped,
    ...counts,
    duration_ms: duration,
    failed: cases,
  };
  return { ok: true, report };
}

function parseFailed(entry: unknown): FailedTest | string {
  if (!isObject(entry)) return 'must be an object';
  for (const key of Object.keys(entry)) if (!FAILED_KEYS.has(key)) return `unknown field ${key}`;
  const texts: Record<'suite' | 'name' | 'classname' | 'message', string> = {
    suite: '',
    name: '',
    classname: '',
    message: '',
  };
  for (const key of ['suite', 'name', 'classname', 'message'] as const) {
    const value = entry[key] ?? '';
    if (typeof value !== 'string') return `${key} must be text`;
    if (value.length > REPORT_LIMITS.textChars)
      return `${key} is longer than ${REPORT_LIMITS.textChars} characters`;
    texts[key] = value;
  }
  if (texts.name === '') return 'a failed test needs a name';
  const output = entry.output;
  if (output === undefined) return texts;
  if (typeof output !== 'string') return 'output must be text';
  if (output.length > REPORT_LIMITS.failedOutputChars) {
    return `output is longer than ${REPORT_LIMITS.failedOutputChars} characters`;
  }
  return { ...texts, output };
}

function ownTime(value: unknown, fallback: string): string | undefined {
  if (value === undefined) return fallback;
  const parsed = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(parsed) ? new Date(parsed).toISOString() : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isWhole(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
