// The stored form of a step's log: JSON records, one per line of the file. A record is one
// LogLine, or a run of plain lines stored together: its text holds them joined by `\n` (a line
// never contains one) and its seq is the first line's. Read by the CLI and the server; written
// by StepLog, which stores each chunk of plain output as one record.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface LogLine {
  /** 1, 2, 3... in the order lines were stored, across both output streams. */
  seq: number;
  /** ISO 8601. */
  time: string;
  /** `system` is the engine's own line (a retry, the truncation marker), not step output. */
  stream: LogStream;
  text: string;
  /** Shown before its newline arrived (a prompt, a progress bar); the next line continues it. */
  partial?: true;
  /** The truncation marker: nothing after it was kept. */
  truncated?: true;
  /** A valid `::gbcms` report command (engine/reports/protocol.ts): viewers may hide or dim it. */
  report?: true;
}

const STREAMS: ReadonlySet<string> = new Set(['stdout', 'stderr', 'system']);

function isLogLine(value: unknown): value is LogLine {
  if (typeof value !== 'object' || value === null) return false;
  const line = value as Record<string, unknown>;
  return (
    typeof line.seq === 'number' &&
    typeof line.time === 'string' &&
    typeof line.stream === 'string' &&
    STREAMS.has(line.stream) &&
    typeof line.text === 'string'
  );
}

/**
 * The lines of one stored record; empty for a torn or foreign record (a crash mid-write leaves
 * one). A record with several lines carries no flags: flagged lines are stored alone.
 */
export function parseLogRecord(json: string): LogLine[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return [];
  }
  if (!isLogLine(value)) return [];
  if (!value.text.includes('\n')) return [value];
  const { seq, time, stream } = value;
  return value.text.split('\n').map((text, i) => ({ seq: seq + i, time, stream, text }));
}

/** Streams a log file's lines without holding the whole file. */
export async function* readLogLines(file: string): AsyncGenerator<LogLine> {
  const input = createReadStream(file, { encoding: 'utf8' });
  // JSON escapes \r and \n inside strings, so every raw line break is a record boundary.
  const records = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const record of records) {
      if (record.length === 0) continue;
      yield* parseLogRecord(record);
    }
  } finally {
    records.close();
    input.destroy();
  }
}

export async function readLogFile(file: string): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const line of readLogLines(file)) lines.push(line);
  return lines;
}

/** Plain text for a terminal or a download; engine lines are marked so nobody blames the step. */
export function formatLogLine(line: LogLine, options: { timestamps?: boolean } = {}): string {
  const prefix = line.stream === 'system' ? '[gbcms] ' : '';
  const time = options.timestamps ? `${line.time} ` : '';
  return `${time}${prefix}${line.text}`;
}

export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} B`;
}
