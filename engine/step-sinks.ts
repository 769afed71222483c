// Where one step's output goes: its log file (masked, capped), its reports (protocol lines in
// the log and its $GBCMS_REPORTS file) and the observers. Made per step when the step starts
// and closed when it ends, so a step that never runs leaves no files.
import { join } from 'node:path';
import type { Backend, RunContext } from './backends/types.ts';
import type { RunObserver } from './events.ts';
import { StepLog } from './logs/step-log.ts';
import type { PlannedStep } from './plan.ts';
import { ReportCollector } from './reports/collector.ts';
import { REPORT_PREFIX } from './reports/protocol.ts';
import { StepReports } from './reports/step-reports.ts';
import type { StepReportSummary } from './reports/types.ts';

export interface StepSinks {
  log: StepLog;
  collector: ReportCollector;
  /**
   * Closes the log and the reports (once, however often it is called) and returns the reports
   * summary. Trouble storing the reports becomes a notice, never a failed step.
   */
  close(): Promise<StepReportSummary | undefined>;
}

export interface StepSinkOptions {
  backend: Backend;
  run: RunContext;
  /** The step's log file, relative to the run's folder. */
  logFile: string;
  maxLogBytes?: number;
  emit: RunObserver;
}

export function openStepSinks(step: PlannedStep, options: StepSinkOptions): StepSinks {
  const { run, emit } = options;
  // Report lines are parsed once masked; valid ones are flagged in the file and for observers.
  // The log calls classify only for lines written later, once stepReports exists.
  const log: StepLog = new StepLog({
    file: join(run.dir, options.logFile),
    secrets: step.secrets.map((name) => run.secrets[name] ?? '').filter((v) => v !== ''),
    maxBytes: options.maxLogBytes,
    reports: { prefix: REPORT_PREFIX, classify: (line): boolean => stepReports.inspectLine(line) },
  });
  const stepReports: StepReports = new StepReports({
    file: join(run.dir, 'reports', `${step.slug}.jsonl`),
    log,
    emit: (report) => emit({ type: 'report', step: step.name, report }),
  });
  const unsubscribe = log.subscribe((line) => emit({ type: 'log', step: step.name, line }));
  const collector = new ReportCollector({ backend: options.backend, step, run, reports: stepReports, log });

  let closing: Promise<StepReportSummary | undefined> | undefined;
  const close = async (): Promise<StepReportSummary | undefined> => {
    try {
      await log.close();
    } finally {
      unsubscribe();
      try {
        await stepReports.close();
      } catch (error) {
        const message = `could not store the step's reports: ${error instanceof Error ? error.message : String(error)}`;
        emit({ type: 'notice', step: step.name, message });
      }
    }
    return stepReports.summary();
  };
  return {
    log,
    collector,
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
