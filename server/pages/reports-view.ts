// The reports part of an execution page as the server first renders it: a progress bar per
// step, a frame per metric chart (the browser draws the points: assets/charts.js), test results
// per step and the annotations. assets/reports.js builds the same markup as reports arrive, so
// the two must stay alike.

import { formatDuration } from '../../engine/config/units.ts';
import type {
  AnnotationReport,
  FailedTest,
  ProgressReport,
  TestsReport,
} from '../../engine/reports/types.ts';
import { html, type SafeHtml } from './html.ts';

export interface StepReport<R> {
  step: string;
  report: R;
}

/** What is known of an execution's reports when its page is rendered. */
export interface ReportsOverview {
  /** Each step's latest progress. */
  progress: readonly StepReport<ProgressReport>[];
  /** Each metric name a step reported (points are fetched by the browser). */
  metrics: readonly { step: string; name: string }[];
  tests: readonly StepReport<TestsReport>[];
  annotations: readonly StepReport<AnnotationReport>[];
}

export const NO_REPORTS: ReportsOverview = { progress: [], metrics: [], tests: [], annotations: [] };

export function hasReports(overview: ReportsOverview): boolean {
  const { progress, metrics, tests, annotations } = overview;
  return progress.length + metrics.length + tests.length + annotations.length > 0;
}

/**
 * The chart a metric is drawn in: names that share a prefix before their last `/` or `.`
 * (`loss/train`, `loss/val`) share the chart `loss`.
 */
export function chartKey(name: string): string {
  const cut = Math.max(name.lastIndexOf('/'), name.lastIndexOf('.'));
  return cut > 0 ? name.slice(0, cut) : name;
}

/** A chart's caption: its key when several metrics share it, else the one metric's name. */
export function chartTitle(key: string, names: ReadonlySet<string>): string {
  const [only] = names;
  return names.size === 1 && only !== undefined ? only : key;
}

/** Test results of one step, all its reports added up (one per JUnit file). */
export interface StepTests {
  step: string;
  tests: number;
  passed: number;
  failures: number;
  errors: number;
  skipped: number;
  duration_ms: number;
  failed: FailedTest[];
}

export function testsByStep(reports: readonly StepReport<TestsReport>[]): StepTests[] {
  const steps = new Map<string, StepTests>();
  for (const { step, report } of reports) {
    const total = steps.get(step) ?? {
      step,
      tests: 0,
      passed: 0,
      failures: 0,
      errors: 0,
      skipped: 0,
      duration_ms: 0,
      failed: [],
    };
    total.tests += report.tests;
    total.failures += report.failures;
    total.errors += report.errors;
    total.skipped += report.skipped;
    total.duration_ms += report.duration_ms;
    total.passed = Math.max(0, total.tests - total.failures - total.errors - total.skipped);
    total.failed.push(...report.failed);
    steps.set(step, total);
  }
  return [...steps.values()];
}

export function annotationPlace(report: Pick<AnnotationReport, 'file' | 'line'>): string {
  if (report.file === undefined) return '';
  return report.line === undefined ? report.file : `${report.file}:${report.line}`;
}

export interface ReportsUrls {
  /** The reports API the browser loads the stored reports from, if the server has it. */
  reports?: string | undefined;
  /** The metric points as CSV, if the server offers them. */
  metricsCsv?: string | undefined;
}

export function reportsSection(overview: ReportsOverview, urls: ReportsUrls): SafeHtml {
  const groups = new Map<string, Set<string>>();
  for (const { name } of overview.metrics) {
    const key = chartKey(name);
    const names = groups.get(key) ?? new Set<string>();
    names.add(name);
    groups.set(key, names);
  }
  const tests = testsByStep(overview.tests);
  return html`<section id="reports"${urls.reports ? html` data-reports="${urls.reports}"` : ''}>
<div id="progress-block" class="report-block"${overview.progress.length === 0 ? html` hidden` : ''}>
<h2>Progress</h2>
<div id="progress">${overview.progress.map(progressRow)}</div>
</div>
<div id="charts-block" class="report-block"${groups.size === 0 ? html` hidden` : ''}>
<h2>Metrics${urls.metricsCsv ? html` <a class="small" href="${urls.metricsCsv}" download>CSV</a>` : ''}</h2>
<div id="charts" class="chart-grid">${[...groups].map(([key, names]) => chartFrame(key, names))}</div>
</div>
<div id="tests-block" class="report-block"${tests.length === 0 ? html` hidden` : ''}>
<h2>Tests</h2>
<div id="tests">${tests.map(testsTable)}</div>
</div>
<div id="annotations-block" class="report-block"${overview.annotations.length === 0 ? html` hidden` : ''}>
<h2>Annotations</h2>
<ul id="annotations">${overview.annotations.map(annotationItem)}</ul>
</div>
</section>`;
}

function progressRow({ step, report }: StepReport<ProgressReport>): SafeHtml {
  return html`<div class="progress-row" data-step="${step}">
<span class="progress-step">${step}</span>
<progress max="${report.total}" value="${report.done}"></progress>
<span class="progress-count">${report.done}/${report.total}</span>
<span class="progress-message">${report.message ?? ''}</span>
</div>`;
}

function chartFrame(key: string, names: ReadonlySet<string>): SafeHtml {
  return html`<figure class="chart" data-chart="${key}"><figcaption>${chartTitle(key, names)}</figcaption><div class="plot"></div></figure>`;
}

function testsTable(tests: StepTests): SafeHtml {
  const failing = tests.failures + tests.errors;
  return html`<section class="tests" data-step="${tests.step}">
<h3>${tests.step} <span class="status status-${failing > 0 ? 'failure' : 'success'}">${failing > 0 ? `${failing} failed` : 'passed'}</span></h3>
<table class="list tests-counts">
<thead><tr><th>Tests</th><th>Passed</th><th>Failed</th><th>Errors</th><th>Skipped</th><th>Duration</th></tr></thead>
<tbody><tr><td class="count-tests">${tests.tests}</td><td class="count-passed">${tests.passed}</td><td class="count-failures">${tests.failures}</td><td class="count-errors">${tests.errors}</td><td class="count-skipped">${tests.skipped}</td><td>${formatDuration(tests.duration_ms)}</td></tr></tbody>
</table>
${
  tests.failed.length > 0
    ? html`<table class="list failed-tests">
<thead><tr><th>Failed test</th><th>Message</th></tr></thead>
<tbody>${tests.failed.map(failedRow)}</tbody>
</table>`
    : ''
}
</section>`;
}

function failedRow(test: FailedTest): SafeHtml {
  return html`<tr class="failed-test">
<td><div class="test-name">${test.name}</div><div class="muted">${[test.suite, test.classname].filter(Boolean).join(' · ')}</div></td>
<td><div class="test-message">${test.message}</div>${
    test.output
      ? html`<details><summary>Output</summary><pre class="test-output">${test.output}</pre></details>`
      : ''
  }</td>
</tr>`;
}

function annotationItem({ step, report }: StepReport<AnnotationReport>): SafeHtml {
  const place = annotationPlace(report);
  return html`<li class="annotation" data-step="${step}">
<span class="level level-${report.level}">${report.level}</span>
${place ? html`<code class="place">${place}</code>` : ''}
${report.title ? html`<strong class="annotation-title">${report.title}</strong>` : ''}
${report.message ? html`<span class="annotation-message">${report.message}</span>` : ''}
<span class="muted annotation-step">${step}</span>
</li>`;
}
