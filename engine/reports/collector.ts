// The backend side of a step's reports: follows its $GBCMS_REPORTS file while each attempt runs,
// and reads its JUnit file once the step has ended, both as regular files out of
// Backend.fetchArchive (symlinks never followed). Trouble here becomes a line in the step's
// log, never a failed step.
import { readStepFile } from '../artifacts/read-file.ts';
import type { Backend, RunContext } from '../backends/types.ts';
import { type PlannedStep, reportsFileOf } from '../plan.ts';
import type { StepStatus } from '../status.ts';
import { FileTail } from './file-tail.ts';
import { parseJunit } from './junit.ts';
import type { StepReports } from './step-reports.ts';
import { REPORT_LIMITS, type ReportLimits } from './types.ts';

/** What the step runner tells the reports about a step's life. */
export interface StepReporting {
  /** An attempt's process started: follow its reports file. */
  attemptStarted(): void;
  /** An attempt's process ended, its resources not yet removed: read what is left. Never rejects. */
  attemptEnded(): Promise<void>;
  /** The step ended (after its last attempt), its resources not yet removed. Never rejects. */
  stepEnded(status: StepStatus): Promise<void>;
}

export interface ReportCollectorOptions {
  backend: Backend;
  step: PlannedStep;
  run: RunContext;
  reports: StepReports;
  log: { system(text: string): void };
  now?: () => Date;
  intervalMs?: number;
  limits?: Partial<ReportLimits>;
}

export class ReportCollector implements StepReporting {
  readonly #options: ReportCollectorOptions;
  readonly #limits: ReportLimits;
  readonly #now: () => Date;
  readonly #tail: FileTail;

  constructor(options: ReportCollectorOptions) {
    this.#options = options;
    this.#limits = { ...REPORT_LIMITS, ...options.limits };
    this.#now = options.now ?? (() => new Date());
    const { reports, log } = options;
    const path = reportsFileOf(options.step);
    this.#tail = new FileTail({
      read: (offset, maxBytes) => this.#read(path, offset, maxBytes),
      onLine: (line) => reports.acceptFileLine(line, this.#now().toISOString()),
      onProblem: (message) => log.system(`notice: ${message}`),
      intervalMs: options.intervalMs,
      maxBytes: this.#limits.reportsFileBytes,
      maxLineBytes: this.#limits.fileLineChars,
    });
  }

  #read(path: string, fromOffset: number, maxBytes: number): Promise<Buffer | undefined> {
    const { backend, step, run } = this.#options;
    return readStepFile(backend, step, run, path, fromOffset, maxBytes);
  }

  attemptStarted(): void {
    this.#tail.start();
  }

  async attemptEnded(): Promise<void> {
    await this.#tail.stop();
    this.#options.reports.reportBadFileLines();
  }

  async stepEnded(status: StepStatus): Promise<void> {
    this.#tail.finish();
    this.#options.reports.reportBadFileLines();
    const junit = this.#options.step.reports.junit;
    if (junit !== undefined && (status === 'success' || status === 'failure')) await this.#readJunit(junit);
  }

  async #readJunit(path: string): Promise<void> {
    const { reports, log } = this.#options;
    const max = this.#limits.junitBytes;
    let data: Buffer | undefined;
    try {
      data = await this.#read(path, 0, max + 1);
    } catch (error) {
      log.system(
        `could not read JUnit report '${path}': ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    if (data === undefined) {
      log.system(`notice: JUnit report '${path}' was not found in the workspace`);
      return;
    }
    if (data.length > max) {
      log.system(`JUnit report '${path}' is larger than ${max / 1024 / 1024} MiB; it was not read`);
      return;
    }
    const result = parseJunit(data.toString('utf8'), { maxBytes: max });
    if (!result.ok) {
      log.system(`JUnit report '${path}' was refused: ${result.error}`);
      return;
    }
    const { tests } = result;
    reports.add({ type: 'tests', time: this.#now().toISOString(), ...tests });
    log.system(
      `JUnit report '${path}': ${tests.tests} tests, ${tests.failures} failed, ${tests.errors} errors, ${tests.skipped} skipped`,
    );
  }
}
