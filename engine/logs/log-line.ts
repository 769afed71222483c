// The stored form of a step's log: one JSON LogLine per line of the file. Read by the CLI
// and the server; written by StepLog.
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

/** Parses one stored line; undefined for a torn or foreign line (a crash mid-write leaves one). */
export function parseLogLine(json: string): LogLine | undefined {
  try {
    const value: unknown = JSON.parse(json);
    return isLogLine(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Streams a log file's lines without holding the whole file. */
export async function* readLogLines(file: string): AsyncGenerator<LogLine> {
  const input = createReadStream(file, { encoding: 'utf8' });
  // JSON escapes \r and \n inside strings, so every raw line break is a record boundary.
  const records = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const record of records) {
      if (record.length === 0) continue;
      const line = parseLogLine(record);
      if (line) yield line;
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
