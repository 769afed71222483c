// `gbcms/report`: typed reports from code running inside a gbcms step.
//
//   import { metric, progress, annotation, openReportsFile } from 'gbcms/report';
//   progress(3, 10, 'training epoch 3');
//   metric('loss', 0.314, 120);
//   annotation({ level: 'warning', file: 'src/a.ts', line: 3, title: 'Slow test' });
//
//   const file = openReportsFile();          // thousands of points a second
//   for (...) file.metric('loss', loss, step);
//   await file.close();
//
// The plain functions print the protocol's `::gbcms` lines (engine/reports/protocol.ts) to
// stdout; openReportsFile() appends JSON lines to $GBCMS_REPORTS, buffered. Both validate like
// the engine's parser and throw a RangeError for what it would refuse (NaN, a bad name...).
//
// Every destination is a Reporter. Reporting from outside a step, over HTTP to a gbcms server,
// belongs beside these as `createHttpReporter({ url, token, executionId }): Reporter`.
import { closeSync, openSync, writeSync } from 'node:fs';
import { formatReportJson, formatReportLine } from '../reports/format.ts';
import type { ReportInput } from '../reports/types.ts';
import { type AnnotationInput, annotationInput, metricInput, progressInput } from './inputs.ts';

export type { AnnotationLevel } from '../reports/types.ts';
// Outside a step, the same reports go to a gbcms server over HTTP.
export {
  createHttpReporter,
  type HttpReporter,
  type HttpReporterOptions,
  ReporterError,
  type StartOptions,
} from './http.ts';
export type { AnnotationInput } from './inputs.ts';

/** Somewhere reports go. */
export interface Reporter {
  /** A point of metric `name`; `step` is the training step, epoch or iteration (whole, >= 0). */
  metric(name: string, value: number, step?: number): void;
  progress(done: number, total: number, message?: string): void;
  annotation(annotation: AnnotationInput): void;
  /** Sends what is buffered. */
  flush(): Promise<void>;
  /** Flushes and lets go of the destination; later reports throw. */
  close(): Promise<void>;
}

/** A reporter built on one function that takes each valid report. */
function reporter(
  send: (input: ReportInput) => void,
  flush: () => Promise<void>,
  close: () => Promise<void>,
): Reporter {
  return {
    metric: (name, value, step) => send(metricInput(name, value, step)),
    progress: (done, total, message) => send(progressInput(done, total, message)),
    annotation: (annotation) => send(annotationInput(annotation)),
    flush,
    close,
  };
}

/**
 * Reports as `::gbcms` lines through `write` (default: stdout). A line only counts when it
 * starts a line: end your own unfinished output line (a progress bar's) before reporting.
 */
export function createLineReporter(
  write: (line: string) => void = (line) => process.stdout.write(line),
): Reporter {
  let closed = false;
  return reporter(
    (input) => {
      if (closed) throw new Error('gbcms report: this reporter is closed');
      write(`${formatReportLine(input)}\n`);
    },
    async () => undefined,
    async () => {
      closed = true;
    },
  );
}

export interface ReportsFileOptions {
  /** Default: $GBCMS_REPORTS, which gbcms sets for every step. */
  path?: string;
  /** Buffered lines are written once they pass this many characters. Default 64 KiB. */
  bufferChars?: number;
  /** ...or once the oldest has waited this long. Default 500 ms. */
  flushMs?: number;
  now?: () => Date;
}

export interface ReportsFile extends Reporter {
  readonly path: string;
  /** Writes the buffered lines now, synchronously. */
  flushSync(): void;
}

/**
 * Appends reports as JSON lines to the step's reports file, for rates too high for stdout.
 * Each line carries its own time, so buffering does not shift the points. The buffer is also
 * written when the process exits normally.
 */
export function openReportsFile(options: ReportsFileOptions = {}): ReportsFile {
  const path = options.path ?? process.env.GBCMS_REPORTS;
  if (path === undefined || path === '') {
    throw new Error('gbcms report: $GBCMS_REPORTS is not set; openReportsFile() works inside a gbcms step');
  }
  const bufferChars = options.bufferChars ?? 64 * 1024;
  const flushMs = options.flushMs ?? 500;
  const now = options.now ?? (() => new Date());
  let fd: number | undefined = openSync(path, 'a');
  let buffer: string[] = [];
  let chars = 0;
  let timer: NodeJS.Timeout | undefined;

  const flushSync = () => {
    clearTimeout(timer);
    timer = undefined;
    if (buffer.length === 0 || fd === undefined) return;
    const data = Buffer.from(buffer.join(''));
    buffer = [];
    chars = 0;
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written);
  };
  process.on('exit', flushSync);

  const send = (input: ReportInput) => {
    if (fd === undefined) throw new Error('gbcms report: this reports file is closed');
    const line = `${formatReportJson(input, now())}\n`;
    buffer.push(line);
    chars += line.length;
    if (chars >= bufferChars) flushSync();
    else if (timer === undefined) {
      timer = setTimeout(flushSync, flushMs);
      timer.unref();
    }
  };
  const close = async () => {
    if (fd === undefined) return;
    flushSync();
    process.off('exit', flushSync);
    closeSync(fd);
    fd = undefined;
  };
  return { ...reporter(send, async () => flushSync(), close), path, flushSync };
}

let stdoutReporter: Reporter | undefined;

function lines(): Reporter {
  stdoutReporter ??= createLineReporter();
  return stdoutReporter;
}

/** Prints a metric point: `::gbcms metric name=loss value=0.314 step=120`. */
export function metric(name: string, value: number, step?: number): void {
  lines().metric(name, value, step);
}

/** Prints the progress: `::gbcms progress 45/100 training epoch 3`. */
export function progress(done: number, total: number, message?: string): void {
  lines().progress(done, total, message);
}

/** Prints an annotation: `::gbcms annotation level=warning file=src/a.ts line=3 title=Slow test`. */
export function annotation(annotation: AnnotationInput): void {
  lines().annotation(annotation);
}
