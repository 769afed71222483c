// One step's reports: takes them from its stdout lines and its reports file, applies the limits
// (downsampling, caps on names and annotations), keeps the summary, appends what is kept to the
// run's reports file and hands it to observers. Never throws at the step's output.
import type { LogLine } from '../logs/log-line.ts';
import { Downsampler } from './downsample.ts';
import { parseReportJson, parseReportLine } from './protocol.ts';
import { ReportsFileWriter } from './reports-file.ts';
import { SummaryBuilder } from './summary.ts';
import { REPORT_LIMITS, type Report, type ReportLimits, type StepReportSummary } from './types.ts';

export interface StepReportsOptions {
  /** Where the kept reports are stored: `<runDir>/reports/<step-slug>.jsonl`. */
  file: string;
  /** The engine's own lines in the step's log (downsampling, refusals). */
  log: { system(text: string): void };
  /** Each kept report, as it is kept. */
  emit(report: Report): void;
  limits?: Partial<ReportLimits>;
}

const PROGRESS_SERIES = 'progress';

export class StepReports {
  readonly #log: StepReportsOptions['log'];
  readonly #emit: StepReportsOptions['emit'];
  readonly #limits: ReportLimits;
  readonly #writer: ReportsFileWriter;
  readonly #sampler: Downsampler;
  readonly #summary = new SummaryBuilder();
  /** The last point of each series when downsampling dropped it: stored at close, so the end is exact. */
  readonly #droppedLast = new Map<string, Report>();
  #metrics = 0;
  #annotations = 0;
  #badFileLines = 0;
  #firstBadFileLine: string | undefined;
  readonly #told = new Set<string>();
  #closed = false;

  constructor(options: StepReportsOptions) {
    this.#log = options.log;
    this.#emit = options.emit;
    this.#limits = { ...REPORT_LIMITS, ...options.limits };
    this.#writer = new ReportsFileWriter(options.file);
    this.#sampler = new Downsampler(this.#limits.pointsPerSeries);
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
    switch (report.type) {
      case 'metric': {
        const series = `metric:${report.name}`;
        if (!this.#sampler.has(series)) {
          if (this.#metrics >= this.#limits.metricsPerStep) {
            this.#tellOnce(
              'metrics',
              `notice: more than ${this.#limits.metricsPerStep} different metrics; '${report.name}' and any later new names are ignored`,
            );
            return;
          }
          this.#metrics += 1;
        }
        this.#summary.add(report);
        this.#sampled(series, `metric ${report.name}`, report);
        return;
      }
      case 'progress':
        this.#summary.add(report);
        this.#sampled(PROGRESS_SERIES, 'progress', report);
        return;
      case 'annotation':
        if (this.#annotations >= this.#limits.annotationsPerStep) {
          this.#tellOnce(
            'annotations',
            `notice: more than ${this.#limits.annotationsPerStep} annotations; later ones are ignored`,
          );
          return;
        }
        this.#annotations += 1;
        this.#summary.add(report);
        this.#keep(report);
        return;
      case 'tests':
        this.#summary.add(report);
        this.#keep(report);
        return;
    }
  }

  /** The step's summary, or undefined when it reported nothing. */
  summary(): StepReportSummary | undefined {
    return this.#summary.empty ? undefined : this.#summary.result();
  }

  /** Stores the last points downsampling dropped and closes the file. Later reports are ignored. */
  async close(): Promise<void> {
    if (this.#closed) return;
    for (const report of this.#droppedLast.values()) this.#keep(report);
    this.#droppedLast.clear();
    this.#closed = true;
    await this.#writer.close();
  }

  #sampled(series: string, label: string, report: Report): void {
    const admission = this.#sampler.admit(series);
    if (!admission.keep) {
      this.#droppedLast.set(series, report);
      return;
    }
    this.#droppedLast.delete(series);
    this.#keep(report);
    if (admission.thinnedTo !== undefined) {
      this.#log.system(
        `notice: ${label} passed ${this.#limits.pointsPerSeries} points; from now on 1 in ${admission.thinnedTo} is kept, and half as many again after each ${this.#limits.pointsPerSeries} more (the summary still counts every point)`,
      );
    }
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
