// One step's reports: takes them from its stdout lines and its reports file, applies the limits
// (limits.ts: downsampling, caps on names and annotations), keeps the summary, appends what is
// kept to the run's reports file and hands it to observers. Never throws at the step's output.
import type { LogLine } from '../logs/log-line.ts';
import { ReportLimiter } from './limits.ts';
import { parseReportJson, parseReportLine } from './protocol.ts';
import { ReportsFileWriter } from './reports-file.ts';
import { SummaryBuilder } from './summary.ts';
import type { Report, ReportLimits, StepReportSummary } from './types.ts';

export interface StepReportsOptions {
  /** Where the kept reports are stored: `<runDir>/reports/<step-slug>.jsonl`. */
  file: string;
  /** The engine's own lines in the step's log (downsampling, refusals). */
  log: { system(text: string): void };
  /** Each kept report, as it is kept. */
  emit(report: Report): void;
  limits?: Partial<ReportLimits>;
}

export class StepReports {
  readonly #log: StepReportsOptions['log'];
  readonly #emit: StepReportsOptions['emit'];
  readonly #limiter: ReportLimiter;
  readonly #writer: ReportsFileWriter;
  readonly #summary = new SummaryBuilder();
  #badFileLines = 0;
  #firstBadFileLine: string | undefined;
  readonly #told = new Set<string>();
  #closed = false;

  constructor(options: StepReportsOptions) {
    this.#log = options.log;
    this.#emit = options.emit;
    this.#limiter = new ReportLimiter(options.limits);
    this.#writer = new ReportsFileWriter(options.file);
  }

  /**
   * Looks at one stored log line. Returns true when it is a valid report command, which the log
   * then flags (`report: true`); an invalid one stays ordinary output.
   */
  inspectLine(line: LogLine): boolean {
    if (line.stream !== 'stdout' || line.partial) return false;
    const parsed = parseReportLine(line.text, line.time);
    if (!parsed) return false;
    if (!parsed.ok) {
      this.#tellOnce(
        'bad-line',
        `notice: a '::gbcms' line is not a valid report (${parsed.error}); it stays in the log as text, and later invalid ones are not mentioned`,
      );
      return false;
    }
    this.add(parsed.report);
    return true;
  }

  /** One line of the step's $GBCMS_REPORTS file, read at `time`. */
  acceptFileLine(text: string, time: string): void {
    const parsed = parseReportJson(text, time);
    if (parsed.ok) {
      this.add(parsed.report);
      return;
    }
    this.#badFileLines += 1;
    this.#firstBadFileLine ??= `${parsed.error}: ${text.length > 80 ? `${text.slice(0, 80)}...` : text}`;
  }

  /** Says how many reports-file lines were refused since the last call, if any. */
  reportBadFileLines(): void {
    if (this.#badFileLines === 0) return;
    this.#log.system(
      `notice: ${this.#badFileLines} line(s) of $GBCMS_REPORTS are not valid reports and were ignored; the first: ${this.#firstBadFileLine}`,
    );
    this.#badFileLines = 0;
    this.#firstBadFileLine = undefined;
  }

  /** A validated report. Applies the step's limits; what is kept goes to the file and observers. */
  add(report: Report): void {
    if (this.#closed) return;
    const admission = this.#limiter.admit(report);
    if (admission.kind === 'ignore') {
      if (admission.notice !== undefined) this.#log.system(`notice: ${admission.notice}`);
      return;
    }
    // Points downsampling leaves out still count in the summary.
    this.#summary.add(report);
    if (admission.kind === 'drop') return;
    this.#keep(report);
    if (admission.notice !== undefined) {
      this.#log.system(`notice: ${admission.notice} (the summary still counts every point)`);
    }
  }

  /** The step's summary, or undefined when it reported nothing. */
  summary(): StepReportSummary | undefined {
    return this.#summary.empty ? undefined : this.#summary.result();
  }

  /** Stores the last points downsampling dropped and closes the file. Later reports are ignored. */
  async close(): Promise<void> {
    if (this.#closed) return;
    // The last points downsampling dropped: stored now, so each series ends where the step's did.
    for (const report of this.#limiter.takeDroppedLast()) this.#keep(report);
    this.#closed = true;
    await this.#writer.close();
  }

  #keep(report: Report): void {
    this.#writer.append(report);
    try {
      this.#emit(report);
    } catch {
      // A broken observer must not break the step.
    }
  }

  #tellOnce(kind: string, message: string): void {
    if (this.#told.has(kind)) return;
    this.#told.add(kind);
    this.#log.system(message);
  }
}
