// What a run leaves behind: the summary shape that `gbcms run --json`, run.json, the
// store and the API share.
import type { ArtifactRecord } from './backends/types.ts';
import type { Trigger } from './plan.ts';
import type { StepReportSummary } from './reports/types.ts';
import type { RunStatus, StepStatus } from './status.ts';

export interface StepRecord {
  name: string;
  status: StepStatus;
  exit_code: number | null;
  /** Why the step ended as it did: `exit code 2`, `timed out after 10m`, `out of memory`, ... */
  reason: string | null;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number | null;
  attempts: number;
  /** Log file, relative to the run directory. */
  log: string;
}

export interface RunRecord {
  id: string;
  pipeline: string;
  status: RunStatus;
  /** Why the run as a whole ended early (setup failed, terminated), if it did. */
  reason: string | null;
  backend: string;
  trigger: Trigger;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  steps: StepRecord[];
  artifacts: ArtifactRecord[];
  /**
   * What the steps reported (metrics, progress, annotations, tests), by step name; steps that
   * reported nothing are absent. Every kept point is in `reports/<step-slug>.jsonl`.
   */
  reports: Record<string, StepReportSummary>;
  /** The run this one re-ran from its failed steps (`gbcms run --from-failed`); absent otherwise. */
  rerun_of?: string;
}
