// The engine's per-step report limits (engine/reports/step-reports.ts), applied to what an
// external reporter sends: each metric (and the progress) keeps every point up to 100,000, then
// thins out; at most 1000 metric names and 1000 annotations. The last point downsampling
// dropped from each series is kept aside and stored at the end, so a chart ends where the
// reporter did. Pure apart from its own state.
import { Downsampler } from '../../engine/reports/downsample.ts';
import { REPORT_LIMITS, type Report, type ReportLimits } from '../../engine/reports/types.ts';

export type Admission =
  /** Store it; `notice` once, when its series starts to thin out. */
  | { kind: 'keep'; notice?: string }
  /** Valid but left out by downsampling. */
  | { kind: 'drop' }
  | { kind: 'refuse'; error: string };

export class ReportLimiter {
  readonly #limits: ReportLimits;
  readonly #sampler: Downsampler;
  readonly #droppedLast = new Map<string, Report>();
  #metrics = 0;
  #annotations = 0;

  constructor(limits: Partial<ReportLimits> = {}) {
    this.#limits = { ...REPORT_LIMITS, ...limits };
    this.#sampler = new Downsampler(this.#limits.pointsPerSeries);
  }

  admit(report: Report): Admission {
    switch (report.type) {
      case 'metric': {
        const series = `metric:${report.name}`;
        if (!this.#sampler.has(series)) {
          if (this.#metrics >= this.#limits.metricsPerStep) {
            return {
              kind: 'refuse',
              error: `more than ${this.#limits.metricsPerStep} different metrics; '${report.name}' is refused`,
            };
          }
          this.#metrics += 1;
        }
        return this.#sampled(series, `metric ${report.name}`, report);
      }
      case 'progress':
        return this.#sampled('progress', 'progress', report);
      case 'annotation':
        if (this.#annotations >= this.#limits.annotationsPerStep) {
          return { kind: 'refuse', error: `more than ${this.#limits.annotationsPerStep} annotations` };
        }
        this.#annotations += 1;
        return { kind: 'keep' };
      case 'tests':
        return { kind: 'keep' };
    }
  }

  /** The last point of each series that downsampling dropped since that series' last kept one. */
  takeDroppedLast(): Report[] {
    const reports = [...this.#droppedLast.values()];
    this.#droppedLast.clear();
    return reports;
  }

  #sampled(series: string, label: string, report: Report): Admission {
    const admission = this.#sampler.admit(series);
    if (!admission.keep) {
      this.#droppedLast.set(series, report);
      return { kind: 'drop' };
    }
    this.#droppedLast.delete(series);
    if (admission.thinnedTo === undefined) return { kind: 'keep' };
    const budget = this.#limits.pointsPerSeries;
    return {
      kind: 'keep',
      notice: `${label} passed ${budget} points; from now on 1 in ${admission.thinnedTo} is stored, and half as many again after each ${budget} more`,
    };
  }
}
