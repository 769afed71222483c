// The report limits of one step (REPORT_LIMITS), in one place for every source of reports: a
// step's (step-reports.ts) and an external reporter's on the server. Each metric, and the
// progress, keeps every point up to pointsPerSeries, then thins out (downsample.ts); past
// metricsPerStep metric names and annotationsPerStep annotations, later ones are ignored. The
// last point downsampling dropped from each series is kept aside for the end, so a chart ends
// where the reporter did. Pure apart from its own state: it decides, the caller tells.
import { Downsampler } from './downsample.ts';
import { REPORT_LIMITS, type Report, type ReportLimits } from './types.ts';

export type Admission =
  /** Keep it. `notice` is set once per series, on the point after which the series thins out. */
  | { kind: 'keep'; notice?: string }
  /** Left out by downsampling; it still counts (in a summary, as accepted). */
  | { kind: 'drop' }
  /** Past a cap (metric names, annotations): ignored altogether. `notice` the first time. */
  | { kind: 'ignore'; notice?: string };

const PROGRESS_SERIES = 'progress';

export class ReportLimiter {
  readonly #limits: ReportLimits;
  readonly #sampler: Downsampler;
  /** The last point of each series when downsampling dropped it. */
  readonly #droppedLast = new Map<string, Report>();
  #metrics = 0;
  #annotations = 0;
  readonly #told = new Set<'metrics' | 'annotations'>();

  constructor(limits: Partial<ReportLimits> = {}) {
    this.#limits = { ...REPORT_LIMITS, ...limits };
    this.#sampler = new Downsampler(this.#limits.pointsPerSeries);
  }

  /** What to do with a validated report. */
  admit(report: Report): Admission {
    switch (report.type) {
      case 'metric': {
        const series = `metric:${report.name}`;
        if (!this.#sampler.has(series)) {
          if (this.#metrics >= this.#limits.metricsPerStep) {
            return this.#ignore(
              'metrics',
              `more than ${this.#limits.metricsPerStep} different metrics; '${report.name}' and any later new names are ignored`,
            );
          }
          this.#metrics += 1;
        }
        return this.#sampled(series, `metric ${report.name}`, report);
      }
      case 'progress':
        return this.#sampled(PROGRESS_SERIES, 'progress', report);
      case 'annotation':
        if (this.#annotations >= this.#limits.annotationsPerStep) {
          return this.#ignore(
            'annotations',
            `more than ${this.#limits.annotationsPerStep} annotations; later ones are ignored`,
          );
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
      notice: `${label} passed ${budget} points; from now on 1 in ${admission.thinnedTo} is kept, and half as many again after each ${budget} more`,
    };
  }

  #ignore(cap: 'metrics' | 'annotations', notice: string): Admission {
    if (this.#told.has(cap)) return { kind: 'ignore' };
    this.#told.add(cap);
    return { kind: 'ignore', notice };
  }
}
