// The report calls' arguments as protocol inputs (engine/reports/types.ts), written once for
// every destination: the line and file reporters of client.ts and the HTTP reporter.
import type { AnnotationLevel, ReportInput } from '../reports/types.ts';

export interface AnnotationInput {
  level: AnnotationLevel;
  /** Workspace-relative path. */
  file?: string;
  /** 1-based line in `file`. */
  line?: number;
  /** At least one of title and message. */
  title?: string;
  message?: string;
}

export function metricInput(name: string, value: number, step?: number): ReportInput {
  return step === undefined ? { type: 'metric', name, value } : { type: 'metric', name, value, step };
}

export function progressInput(done: number, total: number, message?: string): ReportInput {
  return message === undefined
    ? { type: 'progress', done, total }
    : { type: 'progress', done, total, message };
}

export function annotationInput(annotation: AnnotationInput): ReportInput {
  const input: ReportInput = { type: 'annotation', level: annotation.level };
  if (annotation.file !== undefined) input.file = annotation.file;
  if (annotation.line !== undefined) input.line = annotation.line;
  if (annotation.title !== undefined) input.title = annotation.title;
  if (annotation.message !== undefined) input.message = annotation.message;
  return input;
}
