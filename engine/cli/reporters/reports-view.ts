// How step reports look in a terminal: the latest progress and metrics beside a running step,
// a metric summary when it ends, annotations and test results as lines. Keeps, per step, only
// the latest progress and a running summary per metric, whatever the rate of points.
import type { AnnotationReport, ProgressReport, Report, TestsReport } from '../../reports/types.ts';
import { count } from '../count.ts';
import type { Paint } from './format.ts';

interface MetricState {
  last: number;
  min: number;
  max: number;
  count: number;
}

interface StepState {
  progress?: ProgressReport;
  /** In order of last update: the newest is last. */
  metrics: Map<string, MetricState>;
}

/** Failed tests listed under a tests line; the rest are counted. */
const MAX_FAILED_SHOWN = 10;
const LIVE_MESSAGE_CHARS = 40;
const BAR_WIDTH = 10;

export class ReportsView {
  readonly #steps = new Map<string, StepState>();

  /** Takes one report event's report. */
  add(step: string, report: Report): void {
    let state = this.#steps.get(step);
    if (!state) {
      state = { metrics: new Map() };
      this.#steps.set(step, state);
    }
    if (report.type === 'progress') state.progress = report;
    if (report.type !== 'metric') return;
    const metric = state.metrics.get(report.name);
    state.metrics.delete(report.name);
    state.metrics.set(
      report.name,
      metric
        ? {
            last: report.value,
            min: Math.min(metric.min, report.value),
            max: Math.max(metric.max, report.value),
            count: metric.count + 1,
          }
        : { last: report.value, min: report.value, max: report.value, count: 1 },
    );
  }

  progress(step: string): ProgressReport | undefined {
    return this.#steps.get(step)?.progress;
  }

  /** `▰▰▰▱▱▱▱▱▱▱ 45/100 training epoch 3  loss=0.314 acc=0.91`, for the live block. */
  liveDetail(step: string): string {
    const state = this.#steps.get(step);
    if (!state) return '';
    const parts: string[] = [];
    if (state.progress) {
      const { done, total, message } = state.progress;
      const text = message === undefined ? '' : ` ${clip(message, LIVE_MESSAGE_CHARS)}`;
      parts.push(`${progressBar(done, total)} ${formatNumber(done)}/${formatNumber(total)}${text}`);
    }
    const latest = [...state.metrics].slice(-2);
    if (latest.length > 0) parts.push(latest.map(([name, m]) => `${name}=${formatNumber(m.last)}`).join(' '));
    return parts.join('  ');
  }

  /** `loss=0.4 (min 0.4, max 0.9, 2 points), acc=0.8`, or undefined without metrics. */
  metricSummary(step: string): string | undefined {
    const metrics = this.#steps.get(step)?.metrics;
    if (!metrics || metrics.size === 0) return undefined;
    return [...metrics]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, m]) =>
        m.count === 1
          ? `${name}=${formatNumber(m.last)}`
          : `${name}=${formatNumber(m.last)} (min ${formatNumber(m.min)}, max ${formatNumber(m.max)}, ${count(m.count, 'point')})`,
      )
      .join(', ');
  }
}

/** Short and exact enough for a terminal: 0.314, 12345, 1.235e-7. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e9) return String(value);
  return String(Number(value.toPrecision(4)));
}

export function formatProgress(progress: Pick<ProgressReport, 'done' | 'total' | 'message'>): string {
  const fraction = `${formatNumber(progress.done)}/${formatNumber(progress.total)}`;
  return progress.message === undefined ? fraction : `${fraction} ${progress.message}`;
}

export function progressBar(done: number, total: number, width = BAR_WIDTH): string {
  const filled = Math.max(0, Math.min(width, Math.round((done / total) * width)));
  return `${'▰'.repeat(filled)}${'▱'.repeat(width - filled)}`;
}

const LEVEL_COLOR = { notice: 'blue', warning: 'yellow', error: 'red' } as const;

/** `warning src/a.ts:3: Slow test - it took 5 s` */
export function formatAnnotation(annotation: AnnotationReport, paint: Paint): string {
  const where =
    annotation.file === undefined
      ? ''
      : ` ${annotation.file}${annotation.line === undefined ? '' : `:${annotation.line}`}`;
  const text = [annotation.title, annotation.message].filter((t) => t !== undefined).join(' - ');
  return `${paint(LEVEL_COLOR[annotation.level], annotation.level)}${where}: ${text.replace(/\r?\n/g, ' ')}`;
}

/** `tests: 7, 2 failed, 1 error, 1 skipped`, then one line per failed test (up to 10). */
export function formatTests(tests: Omit<TestsReport, 'type' | 'time'>, paint: Paint): string[] {
  const parts = [`${tests.tests}`];
  if (tests.failures > 0) parts.push(paint('red', `${tests.failures} failed`));
  if (tests.errors > 0) parts.push(paint('magenta', `${count(tests.errors, 'error')}`));
  if (tests.skipped > 0) parts.push(`${tests.skipped} skipped`);
  const lines = [`tests: ${parts.join(', ')}`];
  for (const failed of tests.failed.slice(0, MAX_FAILED_SHOWN)) {
    const name = [failed.suite, failed.name].filter((p) => p !== '').join(' > ');
    lines.push(`  ${paint('red', '✗')} ${name}: ${clip(failed.message.split('\n')[0] ?? '', 120)}`);
  }
  const unlisted = tests.failures + tests.errors - Math.min(tests.failed.length, MAX_FAILED_SHOWN);
  if (unlisted > 0) lines.push(`  ... and ${unlisted} more`);
  return lines;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
