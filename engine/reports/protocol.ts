/**
 * The report protocol: how a running step tells gbcms about metrics, progress and annotations.
 *
 * 1. Lines on stdout. After line splitting and secret masking, a stdout line that starts with
 *    exactly `::gbcms ` (no leading space) followed by a known command is a report command:
 *
 *      ::gbcms metric name=loss value=0.314 step=120
 *      ::gbcms progress 45/100 training epoch 3
 *      ::gbcms annotation level=warning file=src/a.ts line=3 title=Slow test
 *
 *    - `metric`: fields `name` (required), `value` (required), `step` (optional), in any order.
 *    - `progress DONE/TOTAL [MESSAGE]`: unsigned decimal numbers with 0 <= DONE <= TOTAL and
 *      TOTAL > 0; everything after them, with blanks around it dropped, is the message.
 *    - `annotation`: fields `level` (required: notice, warning or error), `file`, `line`,
 *      `title`, `message` (at least one of title and message). An unquoted `title=` or
 *      `message=` takes the rest of the line (trailing blanks dropped), so it comes last.
 *
 *    Fields are `key=value`, separated by spaces or tabs. A value is either a run of characters
 *    other than space and tab, or a quoted string `"..."` in which `\"`, `\\`, `\n`, `\r` and
 *    `\t` are escapes and any other `\x` stands for `x`; a quoted value must be followed by a
 *    blank or the end of the line. Any field may be quoted. Unknown or repeated keys make the
 *    line invalid.
 *
 *    Line timing: a report's time is when its line arrived.
 *
 * 2. JSON lines appended to the file named by `$GBCMS_REPORTS` (for high rates; the engine reads
 *    it about once a second while the step runs and once more after it ends), one object per
 *    line, `\n`-terminated (a last line without `\n` is read once the step has ended):
 *
 *      {"type":"metric","name":"loss","value":0.314,"step":120}
 *      {"type":"progress","done":45,"total":100,"message":"training epoch 3"}
 *      {"type":"annotation","level":"warning","file":"src/a.ts","line":3,"title":"Slow test"}
 *
 *    Same fields and rules as the lines; numbers must be JSON numbers, texts JSON strings. An
 *    optional `"time"` (an ISO 8601 date-time) gives the point's own time, else the time it
 *    was read is used. Unknown keys make the line invalid.
 *
 * Validation, for both forms:
 *   - metric names: 1..128 characters of [A-Za-z0-9_.:/-];
 *   - metric values: finite numbers (NaN, Infinity and strings are refused);
 *   - metric step: a whole number >= 0; annotation line: a whole number >= 1;
 *   - title, message, progress message: at most 4096 characters; file: 1..1024 characters.
 *
 * An invalid report line is left in the log as ordinary text (the first one of a step also gets
 * an engine line saying why); parsing never throws. A valid one is kept in the log too, flagged
 * `report: true`, so viewers can hide or dim it. Invalid reports-file lines are counted and
 * reported once per step.
 */
import type { AnnotationLevel, AnnotationReport, Report, ReportInput } from './types.ts';
import { LEVELS, reportProblem } from './validate.ts';

export const REPORT_PREFIX = '::gbcms ';

export type ParseResult = { ok: true; report: Report } | { ok: false; error: string };

/** A decimal number as a person or String(number) writes it: no hex, no Infinity, no NaN. */
const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const UNSIGNED = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const WHOLE = /^\d+$/;

// ---------------------------------------------------------------------------------------------
// Stdout lines.

type Fields = Map<string, string>;

/** Splits `key=value` fields from `start` on: the fields, or why they are malformed. */
function parseFields(
  text: string,
  start: number,
  restOfLine: ReadonlySet<string>,
): { fields: Fields } | { error: string } {
  const fields: Fields = new Map();
  let i = start;
  for (;;) {
    while (i < text.length && isBlank(text.charCodeAt(i))) i++;
    if (i >= text.length) return { fields };
    const eq = text.indexOf('=', i);
    const key = eq === -1 ? '' : text.slice(i, eq);
    if (!/^[a-z]+$/.test(key)) return { error: `expected key=value at '${clip(text.slice(i))}'` };
    if (fields.has(key)) return { error: `${key} is given twice` };
    i = eq + 1;
    if (text[i] === '"') {
      const quoted = readQuoted(text, i + 1);
      if (!quoted) return { error: `${key}: the quoted value does not end` };
      i = quoted.end;
      if (i < text.length && !isBlank(text.charCodeAt(i))) {
        return { error: `${key}: a blank must follow the closing quote` };
      }
      fields.set(key, quoted.value);
    } else if (restOfLine.has(key)) {
      fields.set(key, trimEndBlanks(text.slice(i)));
      i = text.length;
    } else {
      let end = i;
      while (end < text.length && !isBlank(text.charCodeAt(end))) end++;
      fields.set(key, text.slice(i, end));
      i = end;
    }
  }
}

function readQuoted(text: string, start: number): { value: string; end: number } | undefined {
  let value = '';
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') return { value, end: i + 1 };
    if (ch === '\\') {
      i++;
      if (i >= text.length) return undefined;
      const next = text[i];
      value += next === 'n' ? '\n' : next === 'r' ? '\r' : next === 't' ? '\t' : next;
    } else {
      value += ch;
    }
  }
  return undefined;
}

/** Space or tab: what separates fields. */
export function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** Drops the spaces and tabs around `text`, as the parser does with a progress message. */
export function trimBlanks(text: string): string {
  let start = 0;
  while (start < text.length && isBlank(text.charCodeAt(start))) start++;
  return trimEndBlanks(text.slice(start));
}

function trimEndBlanks(text: string): string {
  let end = text.length;
  while (end > 0 && isBlank(text.charCodeAt(end - 1))) end--;
  return text.slice(0, end);
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

function unknownKeys(fields: Fields, known: readonly string[]): string | undefined {
  for (const key of fields.keys()) if (!known.includes(key)) return `unknown field ${key}`;
  return undefined;
}

/**
 * Parses one stdout line. Undefined when it does not start with the prefix (ordinary output);
 * otherwise the report, stamped with `time`, or why it is not one. Never throws.
 */
export function parseReportLine(text: string, time: string): ParseResult | undefined {
  if (!text.startsWith(REPORT_PREFIX)) return undefined;
  let i = REPORT_PREFIX.length;
  let end = i;
  while (end < text.length && !isBlank(text.charCodeAt(end))) end++;
  const command = text.slice(i, end);
  i = end;
  let input: ReportInput | { error: string };
  switch (command) {
    case 'metric':
      input = metricFromFields(text, i);
      break;
    case 'progress':
      input = progressFromText(text, i);
      break;
    case 'annotation':
      input = annotationFromFields(text, i);
      break;
    default:
      return { ok: false, error: `unknown report command '${clip(command)}'` };
  }
  if ('error' in input) return { ok: false, error: input.error };
  return checked(input, time);
}

function checked(input: ReportInput, time: string): ParseResult {
  const problem = reportProblem(input);
  if (problem) return { ok: false, error: problem };
  return { ok: true, report: { ...input, time } as Report };
}

function metricFromFields(text: string, start: number): ReportInput | { error: string } {
  const parsed = parseFields(text, start, new Set());
  if ('error' in parsed) return parsed;
  const { fields } = parsed;
  const unknown = unknownKeys(fields, ['name', 'value', 'step']);
  if (unknown) return { error: unknown };
  const name = fields.get('name');
  const value = fields.get('value');
  const step = fields.get('step');
  if (name === undefined) return { error: 'a metric needs a name' };
  if (value === undefined) return { error: `metric ${name}: a value is needed` };
  if (!NUMBER.test(value)) return { error: `metric ${name}: value must be a finite number` };
  if (step !== undefined && !WHOLE.test(step)) {
    return { error: `metric ${name}: step must be a whole number >= 0` };
  }
  return {
    type: 'metric',
    name,
    value: noNegativeZero(Number(value)),
    ...(step === undefined ? {} : { step: Number(step) }),
  };
}

function progressFromText(text: string, start: number): ReportInput | { error: string } {
  let i = start;
  while (i < text.length && isBlank(text.charCodeAt(i))) i++;
  let end = i;
  while (end < text.length && !isBlank(text.charCodeAt(end))) end++;
  const fraction = text.slice(i, end);
  const slash = fraction.indexOf('/');
  const done = fraction.slice(0, slash);
  const total = fraction.slice(slash + 1);
  if (slash === -1 || !UNSIGNED.test(done) || !UNSIGNED.test(total)) {
    return { error: 'progress needs DONE/TOTAL, like 45/100' };
  }
  let rest = end;
  while (rest < text.length && isBlank(text.charCodeAt(rest))) rest++;
  const message = trimEndBlanks(text.slice(rest));
  return {
    type: 'progress',
    done: Number(done),
    total: Number(total),
    ...(message === '' ? {} : { message }),
  };
}

function annotationFromFields(text: string, start: number): ReportInput | { error: string } {
  const parsed = parseFields(text, start, new Set(['title', 'message']));
  if ('error' in parsed) return parsed;
  const { fields } = parsed;
  const unknown = unknownKeys(fields, ['level', 'file', 'line', 'title', 'message']);
  if (unknown) return { error: unknown };
  const level = fields.get('level');
  if (level === undefined || !LEVELS.has(level)) {
    return { error: 'annotation level must be notice, warning or error' };
  }
  const line = fields.get('line');
  if (line !== undefined && !WHOLE.test(line))
    return { error: 'annotation line must be a whole number >= 1' };
  const annotation: Omit<AnnotationReport, 'time'> = { type: 'annotation', level: level as AnnotationLevel };
  const file = fields.get('file');
  const title = fields.get('title');
  const message = fields.get('message');
  if (file !== undefined) annotation.file = file;
  if (line !== undefined) annotation.line = Number(line);
  if (title !== undefined) annotation.title = title;
  if (message !== undefined) annotation.message = message;
  return annotation;
}

function noNegativeZero(value: number): number {
  return value === 0 ? 0 : value;
}

// ---------------------------------------------------------------------------------------------
// Reports-file lines.

const JSON_KEYS: Record<ReportInput['type'], readonly string[]> = {
  metric: ['type', 'time', 'name', 'value', 'step'],
  progress: ['type', 'time', 'done', 'total', 'message'],
  annotation: ['type', 'time', 'level', 'file', 'line', 'title', 'message'],
};

/** Parses one line of $GBCMS_REPORTS; `time` is used unless the line carries its own. Never throws. */
export function parseReportJson(text: string, time: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'not a JSON object' };
  }
  const object = value as Record<string, unknown>;
  const type = object.type;
  if (type !== 'metric' && type !== 'progress' && type !== 'annotation') {
    return { ok: false, error: 'type must be metric, progress or annotation' };
  }
  for (const key of Object.keys(object)) {
    if (!JSON_KEYS[type].includes(key)) return { ok: false, error: `unknown field ${key}` };
  }
  let stamped = time;
  if (object.time !== undefined) {
    const own = typeof object.time === 'string' ? Date.parse(object.time) : Number.NaN;
    if (!Number.isFinite(own)) return { ok: false, error: 'time must be an ISO 8601 date-time' };
    stamped = new Date(own).toISOString();
  }
  const { time: _time, ...rest } = object;
  // reportProblem checks every field's type, so the cast only names what was just checked.
  const input = rest as unknown as ReportInput;
  if (input.type === 'metric' && typeof input.value === 'number') {
    return checked({ ...input, value: noNegativeZero(input.value) }, stamped);
  }
  return checked(input, stamped);
}
