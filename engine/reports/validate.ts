// Whether a report is valid: the one set of rules behind the line parser, the reports-file
// parser and the client, so a report the client sends is never one the engine refuses.
import type { ReportInput } from './types.ts';
import { REPORT_LIMITS } from './types.ts';

const NAME = /^[A-Za-z0-9_.:/-]+$/;
export const LEVELS: ReadonlySet<string> = new Set(['notice', 'warning', 'error']);

export function metricNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'a metric needs a name';
  if (name.length > REPORT_LIMITS.nameChars) {
    return `metric name is ${name.length} characters long; at most ${REPORT_LIMITS.nameChars}`;
  }
  if (!NAME.test(name)) return `metric name '${name}' may only hold A-Z a-z 0-9 _ . : / -`;
  return undefined;
}

function textProblem(field: string, text: unknown, max: number): string | undefined {
  if (typeof text !== 'string') return `${field} must be text`;
  if (text.length > max) return `${field} is ${text.length} characters long; at most ${max}`;
  return undefined;
}

/** Why `input` is not a valid report, or undefined when it is. */
export function reportProblem(input: ReportInput): string | undefined {
  switch (input.type) {
    case 'metric': {
      const name = metricNameProblem(input.name);
      if (name) return name;
      if (typeof input.value !== 'number' || !Number.isFinite(input.value)) {
        return `metric ${input.name}: value must be a finite number`;
      }
      if (input.step !== undefined && !isWhole(input.step, 0)) {
        return `metric ${input.name}: step must be a whole number >= 0`;
      }
      return undefined;
    }
    case 'progress': {
      const { done, total } = input;
      if (typeof total !== 'number' || !Number.isFinite(total) || total <= 0) {
        return 'progress total must be a number > 0';
      }
      if (typeof done !== 'number' || !Number.isFinite(done) || done < 0 || done > total) {
        return 'progress done must be a number from 0 to the total';
      }
      if (input.message !== undefined) {
        const problem = textProblem('progress message', input.message, REPORT_LIMITS.textChars);
        if (problem) return problem;
        if (/[\r\n]/.test(input.message)) return 'progress message must be one line';
      }
      return undefined;
    }
    case 'annotation': {
      if (!LEVELS.has(input.level)) return 'annotation level must be notice, warning or error';
      if (input.title === undefined && input.message === undefined) {
        return 'an annotation needs a title or a message';
      }
      for (const [field, value] of [
        ['title', input.title],
        ['message', input.message],
      ] as const) {
        if (value === undefined) continue;
        const problem = textProblem(`annotation ${field}`, value, REPORT_LIMITS.textChars);
        if (problem) return problem;
        if (value === '') return `annotation ${field} is empty`;
      }
      if (input.file !== undefined) {
        const problem = textProblem('annotation file', input.file, REPORT_LIMITS.fileChars);
        if (problem) return problem;
        if (input.file === '') return 'annotation file is empty';
      }
      if (input.line !== undefined && !isWhole(input.line, 1)) {
        return 'annotation line must be a whole number >= 1';
      }
      return undefined;
    }
    default:
      return 'unknown report type';
  }
}

function isWhole(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}
