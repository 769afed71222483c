// The one seam every executor implements (docker, local, fake). The scheduler drives a step
// through setupRun -> startStep -> tailStep -> waitStep -> collectArtifacts -> destroyStep,
// and always ends a run with destroyRun, whatever happened before. Every backend gives each
// step $GBCMS_REPORTS (engine/reports/paths.ts), and readStepFile lets the engine read it.
import type { Plan, PlannedStep } from '../plan.ts';

export type BackendName = 'docker' | 'local' | 'fake';

export interface RunContext {
  /** Unguessable run id; also the label value that finds every resource of the run. */
  id: string;
  plan: Plan;
  /** Where the run's files go: logs/, artifacts/, run.json. */
  dir: string;
  /** Values of the secrets the steps ask for, by name. Never logged. */
  secrets: Record<string, string>;
  /** Secrets this run may not have, by name, with the rule that refuses them (a fork, an event). */
  secretRefusals?: Record<string, string>;
  /** Variables every step gets (GBCMS_RUN_ID, CI, ...), below the step's own. */
  env: Record<string, string>;
  /** Engine messages meant for the user ("pulling busybox:stable"), not step output. */
  notice(message: string, step?: string): void;
  /**
   * A backend that isolates steps in containers calls this right after it creates one, for
   * each attempt, so the server can find (and remove) it after a crash. `image` is the id of
   * the image the container runs, which pins what ran even if a tag moves later.
   */
  environment?(step: string, info: StepEnvironment): void;
}

export interface StepEnvironment {
  containerId: string;
  image: string;
}

export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

export interface StepExit {
  exitCode: number;
  /** The kernel killed the step at its memory limit. */
  oomKilled: boolean;
}

export interface ArtifactRecord {
  step: string;
  /**
   * Path with forward slashes. Backends return it relative to the `destDir` they were given;
   * the engine then makes it relative to the run's artifacts folder (`<step-slug>/...`).
   */
  path: string;
  size: number;
  sha256: string;
}

/** Thrown by a backend for the engine's own faults (image missing, engine unreachable): status `error`. */
export class BackendError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BackendError';
  }
}

export interface Backend {
  readonly name: BackendName;
  /** Whether this backend can run here (a Docker engine answers, ...). Cheap and side-effect free. */
  isAvailable(): Promise<boolean>;
  /** Prepares images and the shared workspace. Throws BackendError when it cannot. */
  setupRun(run: RunContext): Promise<void>;
  /** Creates and starts the step; output produced from now on is never lost. */
  startStep(step: PlannedStep, run: RunContext): Promise<void>;
  /** The step's output as it is produced; ends when the step's process ends. */
  tailStep(step: PlannedStep, run: RunContext): AsyncIterable<OutputChunk>;
  /**
   * Resolves when the step ends. Aborting `signal` stops it: SIGTERM, then SIGKILL after
   * `graceMs`; the promise then resolves with the exit that stop produced.
   */
  waitStep(step: PlannedStep, run: RunContext, signal: AbortSignal, graceMs: number): Promise<StepExit>;
  /**
   * Copies the step's artifacts out, after it ended, into `destDir` (safe extraction only).
   * Returns what was written; throws with a clear message on a hostile or oversized archive.
   */
  collectArtifacts(step: PlannedStep, run: RunContext, destDir: string): Promise<ArtifactRecord[]>;
  /**
   * Bytes of a file in the step's workspace (`relativePath`: relative, normalised, inside it),
   * from `fromOffset` on and at most `maxBytes` of them (default: all). Works while the step
   * runs and after it ended, until destroyStep. Undefined when there is no such regular file
   * or no such step. How the engine reads $GBCMS_REPORTS and JUnit files; optional, a backend
   * without it gets no file reports.
   */
  readStepFile?(
    step: PlannedStep,
    run: RunContext,
    relativePath: string,
    fromOffset: number,
    maxBytes?: number,
  ): Promise<Buffer | undefined>;
  /**
   * Removes the step's resources, or starts to: a backend may finish the removal in the
   * background, and destroyRun then waits for it. Idempotent and safe to call concurrently.
   */
  destroyStep(step: PlannedStep, run: RunContext): Promise<void>;
  /** Removes everything the run created, found by label too. Idempotent. */
  destroyRun(run: RunContext): Promise<void>;
  /**
   * Removes what is left of a run known only by its id, after the process that ran it
   * crashed (no RunContext survives a crash). Idempotent; optional for backends with nothing
   * that outlives their process.
   */
  removeRun?(runId: string): Promise<void>;
}
