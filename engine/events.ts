// What observers (the CLI display, the server's store and live pages) hear while a run goes on.
import type { ArtifactRecord, StepCache } from './backends/types.ts';
import type { LogLine } from './logs/log-line.ts';
import type { Report } from './reports/types.ts';
import type { RunRecord, StepRecord } from './run-record.ts';

export type RunEvent =
  | { type: 'run'; run: RunRecord }
  | { type: 'step'; step: StepRecord }
  | { type: 'log'; step: string; line: LogLine }
  | { type: 'notice'; step?: string; message: string }
  | { type: 'artifact'; artifact: ArtifactRecord }
  /** A container was created for an attempt of the step (Docker backend): for bookkeeping, not display. */
  | { type: 'environment'; step: string; container_id: string; image: string }
  /** The run uses this cache of the step (keys are known before setupRun): for bookkeeping, not display. */
  | { type: 'cache'; step: string; cache: StepCache }
  /** A step's metric point, progress, annotation or test results, as it was kept (downsampled). */
  | { type: 'report'; step: string; report: Report };

export type RunObserver = (event: RunEvent) => void;
