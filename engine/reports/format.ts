// Writing the report protocol (see protocol.ts): the stdout line and the reports-file line for a
// report, quoted so that the parser reads back exactly what was written.
import { isBlank, REPORT_PREFIX, trimBlanks } from './protocol.ts';
import type { ReportInput } from './types.ts';
import { reportProblem } from './validate.ts';

/** A field value as the parser reads it back: bare when it can be, quoted otherwise. */
export function quoteValue(value: string): string {
  if (value !== '' && !/[ \t\r\n]/.test(value) && !value.startsWith('"')) return value;
  return quoted(value);
}

function quoted(value: string): string {
  return `"${value.replace(/[\\"\n\r\t]/g, (ch) => ESCAPES[ch] ?? ch)}"`;
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A rest-of-line value: bare when the parser would read it back unchanged. */
function restValue(value: string): string {
  const bare =
    value !== '' &&
    !/[\r\n]/.test(value) &&
    !value.startsWith('"') &&
    !isBlank(value.charCodeAt(0)) &&
    !isBlank(value.charCodeAt(value.length - 1));
  return bare ? value : quoted(value);
}

/** The stdout line (without newline) for a report. Throws a RangeError when it is not valid. */
export function formatReportLine(input: ReportInput): string {
  const problem = reportProblem(input);
  if (problem) throw new RangeError(`gbcms report: ${problem}`);
  switch (input.type) {
    case 'metric':
      return `${REPORT_PREFIX}metric name=${input.name} value=${String(input.value)}${input.step === undefined ? '' : ` step=${input.step}`}`;
    case 'progress': {
      const message = input.message === undefined ? '' : trimBlanks(input.message);
      return `${REPORT_PREFIX}progress ${String(input.done)}/${String(input.total)}${message ? ` ${message}` : ''}`;
    }
    case 'annotation': {
      const parts = [`${REPORT_PREFIX}annotation level=${input.level}`];
      if (input.file !== undefined) parts.push(`file=${quoteValue(input.file)}`);
      if (input.line !== undefined) parts.push(`line=${input.line}`);
      if (input.title !== undefined) {
        // Unquoted, a title would take the message with it as the rest of the line.
        parts.push(`title=${input.message === undefined ? restValue(input.title) : quoted(input.title)}`);
      }
      if (input.message !== undefined) parts.push(`message=${restValue(input.message)}`);
      return parts.join(' ');
    }
  }
}

/** The $GBCMS_REPORTS line (without newline) for a report. Throws a RangeError when it is not valid. */
export function formatReportJson(input: ReportInput, time?: Date): string {
  const problem = reportProblem(input);
  if (problem) throw new RangeError(`gbcms report: ${problem}`);
  return JSON.stringify(time === undefined ? input : { ...input, time: time.toISOString() });
}
