// Folds a step's reports into the summary run.json keeps: per metric the last value, count,
// min and max; the latest progress; the annotations; the test results. Pure.
import type { MetricSummary, Report, StepReportSummary } from './types.ts';

export class SummaryBuilder {
  // A Map, not an object: metric names come from the step, and `__proto__` is a valid one.
  readonly #metrics = new Map<string, MetricSummary>();
  #progress: StepReportSummary['progress'];
  readonly #annotations: StepReportSummary['annotations'] = [];
  #tests: StepReportSummary['tests'];

  get empty(): boolean {
    return (
      this.#metrics.size === 0 &&
      this.#progress === undefined &&
      this.#annotations.length === 0 &&
      this.#tests === undefined
    );
  }

  add(report: Report): void {
    switch (report.type) {
      case 'metric': {
        const metric = this.#metrics.get(report.name);
        if (!metric) {
          this.#metrics.set(report.name, {
            last: report.value,
            count: 1,
            min: report.value,
            max: report.value,
          });
        } else {
          metric.last = report.value;
          metric.count += 1;
          if (report.value < metric.min) metric.min = report.value;
          if (report.value > metric.max) metric.max = report.value;
        }
        return;
      }
      case 'progress':
        this.#progress =
          report.message === undefined
            ? { done: report.done, total: report.total }
            : { done: report.done, total: report.total, message: report.message };
        return;
      case 'annotation': {
        const { type: _type, ...annotation } = report;
        this.#annotations.push(annotation);
        return;
      }
      case 'tests': {
        const { type: _type, ...tests } = report;
        this.#tests = tests;
        return;
      }
    }
  }

  /** The summary so far; a copy the caller may keep. */
  result(): StepReportSummary {
    const summary: StepReportSummary = {
      metrics: Object.fromEntries([...this.#metrics].map(([name, metric]) => [name, { ...metric }])),
      annotations: this.#annotations.map((a) => ({ ...a })),
    };
    if (this.#progress) summary.progress = { ...this.#progress };
    if (this.#tests) summary.tests = structuredClone(this.#tests);
    return summary;
  }
}

/**
 * The summary of a stream of reports, e.g. a step's reports file read back. Points that
 * downsampling left out of the file are not in it, so counts (and possibly min and max) can be
 * lower than in run.json.
 */
export function summarizeReports(reports: Iterable<Report>): StepReportSummary {
  const builder = new SummaryBuilder();
  for (const report of reports) builder.add(report);
  return builder.result();
}
