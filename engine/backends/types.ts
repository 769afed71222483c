// The one seam every executor implements (docker, local, fake). The engine drives a step
// through setupRun -> startStep -> tailStep -> waitStep -> destroyStep, and always ends a run
// with destroyRun, whatever happened before. Files come out of a step's workspace one way,
// fetchArchive: the engine extracts artifacts and reads the step's $GBCMS_REPORTS (plan.ts)
// and JUnit files from it, with the same rules and budgets on every backend.
import type { Readable } from 'node:stream';
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
  /**
   * Set when something outside the step and the engine ended it (the Docker daemon shutting
   * down or restarting): the step is then `error` with this reason, not the developer's failure.
   */
  stoppedFromOutside?: string;
  /**
   * The step's scratch folders sized by `resources.tmp` (/tmp, HOME): a "no space left" in its
   * output that names one of them is reported as that folder being full, not as an exit code.
   */
  scratch?: string[];
}

/** A collected artifact file, as the run records it. */
export interface ArtifactRecord {
  step: string;
  /** Path with forward slashes, relative to the run's artifacts folder (`<step-slug>/...`). */
  path: string;
  size: number;
  sha256: string;
}

/** A cache a step keeps between runs, with the key the engine computed for it. */
export interface StepCache {
  /** As in the plan: relative to the workspace or absolute. */
  path: string;
  /** sha256, hex (engine/cache.ts): differs between scopes, slots and key file contents. */
  key: string;
  /** Whose cache it is (RunOptions.cacheScope); a backend labels what it keeps with it. */
  scope: string;
  /** sha256 of pipeline, step and path: every key of one slot keeps the same folder. */
  slot: string;
}

/**
 * What the engine reads from the project once per run, before setupRun, so that no backend
 * reads the project or computes keys on its own.
 */
export interface RunInputs {
  /** The files the run starts from: relative posix paths below `plan.workspace`, sorted. */
  workspaceFiles: string[];
  /** The caches of each step that runs and keeps some, by step name. */
  caches: Map<string, StepCache[]>;
  /**
   * Steps that must not start, with why (a cache key file gbcms will not read): the engine
   * ends them `error` and a backend prepares nothing for them.
   */
  refusals: Map<string, string>;
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

/** A cache a backend keeps between runs, as a sweep sees it (CacheStore). */
export interface KeptCache {
  key: string;
  scope: string;
  slot: string;
  /** Bytes it holds; 0 when the backend cannot tell. */
  sizeBytes: number;
  /** A step has it mounted or copied in now: a sweep never removes it. */
  inUse: boolean;
  /** When it was created (ISO 8601), for caches no run has been seen to use. */
  createdAt: string;
}

/**
 * Where a backend keeps caches, for a sweep (the server's retention) that removes those no
 * key can reach any more. Kept apart from Backend's run methods because no run needs it and
 * a backend that keeps no caches (fake) has none: the Backend interface gains one optional
 * property, not two methods every backend must stub.
 */
export interface CacheStore {
  /** Every cache this backend keeps, from any scope. */
  list(): Promise<KeptCache[]>;
  /** Removes the cache of `key`; false when a step uses it now (it stays). Gone already: true. */
  remove(key: string): Promise<boolean>;
}

/**
 * A step's environment made and started ahead of its turn, its script held at a gate
 * (Backend.prepareStep). The engine calls exactly one of the two, once.
 */
export interface PreparedStep {
  /**
   * Lets the script run, without an API round; from then on the step is started as after
   * startStep (tailStep, waitStep, fetchArchive, destroyStep).
   */
  release(): Promise<void>;
  /** Removes it without running anything (in the background, as destroyStep; destroyRun waits). */
  discard(): Promise<void>;
}

export interface Backend {
  readonly name: BackendName;
  /** The caches this backend keeps between runs; absent when it keeps none. */
  readonly caches?: CacheStore;
  /** Whether this backend can run here (a Docker engine answers, ...). Cheap and side-effect free. */
  isAvailable(): Promise<boolean>;
  /** Prepares images and the shared workspace from `inputs`. Throws BackendError when it cannot. */
  setupRun(run: RunContext, inputs: RunInputs): Promise<void>;
  /** Creates and starts the step; output produced from now on is never lost. */
  startStep(step: PlannedStep, run: RunContext): Promise<void>;
  /**
   * Optional: does startStep's work for the step's first attempt ahead of its turn, while its
   * dependencies still run, and holds its script until release. Undefined when it cannot
   * prepare this step cheaply now (services to start, an image not present yet): the engine
   * then calls startStep as usual. A rejection means the same; startStep reports the error.
   */
  prepareStep?(step: PlannedStep, run: RunContext): Promise<PreparedStep | undefined>;
  /** The step's output as it is produced; ends when the step's process ends. */
  tailStep(step: PlannedStep, run: RunContext): AsyncIterable<OutputChunk>;
  /**
   * Resolves when the step ends. Aborting `signal` stops it: SIGTERM, then SIGKILL after
   * `graceMs`; the promise then resolves with the exit that stop produced.
   */
  waitStep(step: PlannedStep, run: RunContext, signal: AbortSignal, graceMs: number): Promise<StepExit>;
  /**
   * A tar of the file or folder at `path` (workspace-relative) in the step's workspace, its
   * entries named after the path's last segment (`build/dist` -> `dist`, `dist/app.js`), as
   * Docker's archive API names them. Symlinks are archived as links, never followed, and other
   * special files as what they are: the engine decides what to keep (engine/artifacts/).
   * Undefined when there is nothing at `path`, `path` is not a clean relative one, or the step
   * was not started; a backend may throw for a path that leads out of the workspace through a
   * symlink above it. Works while the step runs and after it ended, until destroyStep. The
   * caller reads the stream to its end or destroys it.
   */
  fetchArchive(step: PlannedStep, run: RunContext, path: string): Promise<Readable | undefined>;
  /**
   * Removes the step's resources, or starts to: a backend may finish the removal in the
   * background, and destroyRun then waits for it. Idempotent and safe to call concurrently.
   */
  destroyStep(step: PlannedStep, run: RunContext): Promise<void>;
  /**
   * Removes everything the run created, found from its id alone (labels, folder names), so it
   * works the same at the end of a run, twice, concurrently, and in a new process after the one
   * that ran it crashed. In the process that ran it, waits for removals destroyStep left in
   * the background.
   */
  destroyRun(runId: string): Promise<void>;
  /**
   * Ids of runs that still hold resources here (containers, volumes, scratch folders), found the
   * way destroyRun finds them. A cleanup that could not reach the engine is retried from this:
   * the caller passes the ids whose run is over to destroyRun (engine/leftovers.ts).
   */
  leftoverRuns(): Promise<string[]>;
}
