// What an execution page shows of its reports on first render, read from the store: each
// step's latest progress, the metric names (the browser fetches their points), test results
// and annotations. Reads are bounded, so a step that reported a million progress updates
// cannot make the page slow; the browser's own load through the reports API completes it.
import type { AnnotationReport, ProgressReport, TestsReport } from '../../../engine/reports/types.ts';
import type { ReportsOverview, StepReport } from '../../pages/reports-view.ts';
import type { ListReportsOptions, ReportRepo, StoredReport } from '../../store/index.ts';
import { MAX_REPORT_PAGE } from '../../store/index.ts';

/** Rows read per report type, at most. */
export const OVERVIEW_ROWS = 50_000;
/** Annotations shown on first render, at most. */
export const OVERVIEW_ANNOTATIONS = 2000;

async function collect(
  reports: ReportRepo,
  options: ListReportsOptions,
  maxRows: number,
  take: (item: StoredReport) => void,
): Promise<void> {
  let after: number | undefined;
  let read = 0;
  while (read < maxRows) {
    const page = await reports.list({
      ...options,
      limit: Math.min(MAX_REPORT_PAGE, maxRows - read),
      ...(after !== undefined ? { after } : {}),
    });
    for (const item of page.items) take(item);
    read += page.items.length;
    if (page.next === null) return;
    after = page.next;
  }
}

export async function readReportsOverview(
  reports: ReportRepo,
  executionId: string,
): Promise<ReportsOverview> {
  const progress = new Map<string, ProgressReport>();
  const tests: StepReport<TestsReport>[] = [];
  const annotations: StepReport<AnnotationReport>[] = [];
  const [metrics] = await Promise.all([
    reports.metricNames(executionId),
    collect(reports, { executionId, type: 'progress' }, OVERVIEW_ROWS, ({ step, report }) => {
      if (report.type === 'progress') progress.set(step, report);
    }),
    collect(reports, { executionId, type: 'tests' }, OVERVIEW_ROWS, ({ step, report }) => {
      if (report.type === 'tests') tests.push({ step, report });
    }),
    collect(reports, { executionId, type: 'annotation' }, OVERVIEW_ANNOTATIONS, ({ step, report }) => {
      if (report.type === 'annotation') annotations.push({ step, report });
    }),
  ]);
  return {
    progress: [...progress].map(([step, report]) => ({ step, report })),
    metrics: metrics.map(({ step, name }) => ({ step, name })),
    tests,
    annotations,
  };
}
