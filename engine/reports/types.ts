// What steps report while they run (metrics, progress, annotations) and once they end (test
// results), as observers, run.json and the server see it. The wire protocol that produces
// these is in protocol.ts.

export type AnnotationLevel = 'notice' | 'warning' | 'error';

export interface MetricReport {
  type: 'metric';
  /** ISO 8601: when the engine received the point, or the time a reports-file line carried. */
  time: string;
  /** 1..128 characters of [A-Za-z0-9_.:/-]. */
  name: string;
  /** Finite. */
  value: number;
  /** Training step, epoch, iteration...: a whole number >= 0. */
  step?: number;
}

export interface ProgressReport {
  type: 'progress';
  time: string;
  /** 0 <= done <= total. */
  done: number;
  /** > 0. */
  total: number;
  message?: string;
}

export interface AnnotationReport {
  type: 'annotation';
  time: string;
  level: AnnotationLevel;
  /** Workspace-relative path the annotation points at. */
  file?: string;
  /** 1-based line in `file`. */
  line?: number;
  /** At least one of title and message is there. */
  title?: string;
  message?: string;
}

export interface FailedTest {
  /** Names of the enclosing test suites, outermost first, joined with ' > '. */
  suite: string;
  name: string;
  classname: string;
  /** The failure's message attribute, or the first line of its text. */
  message: string;
  /** The failure's text (stack trace) and captured output, capped. */
  output?: string;
}

export interface TestsReport {
  type: 'tests';
  time: string;
  /** Every test case in the file, whatever its outcome. */
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  duration_ms: number;
  /** Failed and errored cases, suite by suite, at most REPORT_LIMITS.failedTests of them. */
  failed: FailedTest[];
}

export type Report = MetricReport | ProgressReport | AnnotationReport | TestsReport;

/** A report as a step sends it: the engine stamps the time unless a reports-file line carried one. */
export type ReportInput =
  | Omit<MetricReport, 'time'>
  | Omit<ProgressReport, 'time'>
  | Omit<AnnotationReport, 'time'>;

export interface MetricSummary {
  last: number;
  /** Points received, including those downsampling left out of events and the reports file. */
  count: number;
  min: number;
  max: number;
}

/** One step's reports in run.json: a summary, not every point (those are in reports/<slug>.jsonl). */
export interface StepReportSummary {
  metrics: Record<string, MetricSummary>;
  progress?: { done: number; total: number; message?: string };
  annotations: Omit<AnnotationReport, 'type'>[];
  tests?: Omit<TestsReport, 'type'>;
}

export const REPORT_LIMITS = {
  /** Characters of a metric name. */
  nameChars: 128,
  /** Characters of a title, a message or a progress message. */
  textChars: 4096,
  /** Characters of an annotation's file path. */
  fileChars: 1024,
  /** Points a metric (and the progress) keeps at full rate, per step, before downsampling. */
  pointsPerSeries: 100_000,
  /** Distinct metric names per step; later names are refused. */
  metricsPerStep: 1000,
  annotationsPerStep: 1000,
  /** Bytes of $GBCMS_REPORTS read per step; past it the file is no longer read. */
  reportsFileBytes: 64 * 1024 * 1024,
  /** A reports-file line longer than this is refused. */
  fileLineChars: 64 * 1024,
  junitBytes: 32 * 1024 * 1024,
  failedTests: 1000,
  /** Characters of a failed test's output kept. */
  failedOutputChars: 64 * 1024,
} as const;

export type ReportLimits = { -readonly [K in keyof typeof REPORT_LIMITS]: number };
