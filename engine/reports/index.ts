// Step reports: metrics, progress, annotations and test results that steps send while they run.
// The protocol is described in protocol.ts.

export type { ReportCollectorOptions, StepReporting } from './collector.ts';
export { ReportCollector } from './collector.ts';
export { Downsampler } from './downsample.ts';
export { formatReportJson, formatReportLine, quoteValue } from './format.ts';
export type { JunitResult, JunitTests } from './junit.ts';
export { parseJunit } from './junit.ts';
export type { Admission } from './limits.ts';
export { ReportLimiter } from './limits.ts';
export type { ParseResult } from './protocol.ts';
export { parseReportJson, parseReportLine, REPORT_PREFIX } from './protocol.ts';
export { ReportsFileWriter, readReports, summarizeReportsFile } from './reports-file.ts';
export type { StepReportsOptions } from './step-reports.ts';
export { StepReports } from './step-reports.ts';
export { SummaryBuilder, summarizeReports } from './summary.ts';
export type {
  AnnotationLevel,
  AnnotationReport,
  FailedTest,
  MetricReport,
  MetricSummary,
  ProgressReport,
  Report,
  ReportInput,
  ReportLimits,
  StepReportSummary,
  TestsReport,
} from './types.ts';
export { REPORT_LIMITS } from './types.ts';
export { metricNameProblem, reportProblem } from './validate.ts';
