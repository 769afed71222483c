// The stored form of a step's reports: `<runDir>/reports/<step-slug>.jsonl`, one Report as JSON
// per line, appended as the reports arrive (downsampled, see downsample.ts). The server reads it
// for charts, and can rebuild a step's summary from it.
import { createReadStream, createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { SummaryBuilder } from './summary.ts';
import type { Report, StepReportSummary } from './types.ts';

/** Reports are written in batches of about this many characters. */
const BATCH_CHARS = 64 * 1024;

/** Appends reports to a step's file; the file is only created once there is something to write. */
export class ReportsFileWriter {
  readonly #file: string;
  #out: WriteStream | undefined;
  #batch: string[] = [];
  #batchChars = 0;
  #flushQueued = false;
  #error: Error | undefined;
  #closed = false;

  constructor(file: string) {
    this.#file = file;
  }

  append(report: Report): void {
    if (this.#closed) return;
    const json = JSON.stringify(report);
    this.#batch.push(json);
    this.#batchChars += json.length + 1;
    if (this.#batchChars >= BATCH_CHARS) this.#flush();
    else if (!this.#flushQueued) {
      this.#flushQueued = true;
      setImmediate(() => this.#flush());
    }
  }

  /** Writes what is pending and closes the file. Rejects if a write failed. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    const out = this.#out;
    if (out) {
      await new Promise<void>((resolve) => {
        if (out.destroyed) return resolve();
        out.once('error', () => resolve());
        out.end(() => resolve());
      });
    }
    if (this.#error) throw this.#error;
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#batch.length === 0 || this.#closed) return;
    const data = `${this.#batch.join('\n')}\n`;
    this.#batch = [];
    this.#batchChars = 0;
    if (!this.#out) {
      mkdirSync(dirname(this.#file), { recursive: true });
      this.#out = createWriteStream(this.#file, { flags: 'a' });
      this.#out.on('error', (error) => {
        this.#error ??= error;
      });
    }
    if (!this.#out.destroyed) this.#out.write(data);
  }
}

const TYPES: ReadonlySet<string> = new Set(['metric', 'progress', 'annotation', 'tests']);

function isStoredReport(value: unknown): value is Report {
  if (typeof value !== 'object' || value === null) return false;
  const report = value as Record<string, unknown>;
  return typeof report.type === 'string' && TYPES.has(report.type) && typeof report.time === 'string';
}

/** Streams a stored reports file; torn or foreign lines (a crash mid-write) are skipped. */
export async function* readReports(file: string): AsyncGenerator<Report> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      if (line.length === 0) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        continue;
      }
      if (isStoredReport(value)) yield value;
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

/** A step's summary rebuilt from its stored file (see summarizeReports for how it can differ). */
export async function summarizeReportsFile(file: string): Promise<StepReportSummary> {
  const summary = new SummaryBuilder();
  for await (const report of readReports(file)) summary.add(report);
  return summary.result();
}
