// The default executor: each step is one hardened container (see convert.ts) on a per-run
// workspace volume. Output comes through attach, opened before start so nothing is lost,
// with the log driver off. Every resource is labelled with the run, so destroyRun finds them by
// label rather than by what this process remembers, after a crash too.
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { type PlannedStep, type ResolvedEnvironment, workspaceRelative } from '../../plan.ts';
import {
  type Backend,
  BackendError,
  type OutputChunk,
  type RunContext,
  type RunInputs,
  type StepExit,
} from '../types.ts';
import { DockerCacheStore } from './cache-store.ts';
import { ensureCacheVolume } from './cache-volumes.ts';
import { listRunsWithResources, removeRunResources } from './cleanup.ts';
import {
  type CacheMount,
  parseOwner,
  requireRuntime,
  SCRATCH_PATHS,
  stepContainerOptions,
  WORKSPACE_PATH,
} from './convert.ts';
import { demux } from './demux.ts';
import {
  dockerFailure,
  dockerReason,
  isConnectionLoss,
  isGoneOrGoing,
  isNotFound,
  statusCode,
} from './errors.ts';
import { ImageResolver } from './images.ts';
import { type KillWatch, lostDaemon, stoppedByDaemon, watchKills } from './outside-stops.ts';
import { removeServices, type StartedServices, startServices } from './services.ts';
import { withReportsEnv } from './step-files.ts';
import { createWorkspaceVolume } from './workspace-volume.ts';

const PING_TIMEOUT_MS = 3000;

export interface DockerBackendLogger {
  warn(message: string): void;
}

export interface DockerBackendOptions {
  docker?: Docker;
  logger?: DockerBackendLogger;
  /** Runtimes the engine has registered; defaults to `docker info`. Replaceable to test the gVisor checks. */
  listRuntimes?: () => Promise<string[]>;
}

interface DockerRun {
  /** Image id by environment key. */
  images: Map<string, string>;
  volume: string;
  /** Removals left running in the background (seed and step containers), awaited by destroyRun. */
  removals: Set<Promise<void>>;
  /** Cache volumes by step name. */
  caches: Map<string, CacheMount[]>;
}

interface DockerStep {
  container: Docker.Container;
  output: NodeJS.ReadableStream;
  /** Kills the daemon logged for the container: tells a daemon's stop from the step's own exit. */
  kills: KillWatch;
}

/** Environments with the same image source share one resolved image. */
function environmentKey(environment: ResolvedEnvironment): string {
  return environment.build
    ? `build:${JSON.stringify(environment.build)}`
    : `image:${environment.image}:${environment.pull}`;
}

function stepKey(step: PlannedStep, run: RunContext): string {
  return `${run.id}\0${step.name}`;
}

export class DockerBackend implements Backend {
  readonly name = 'docker';
  /** The labelled cache volumes, for the server's sweep. */
  readonly caches: DockerCacheStore;
  private readonly docker: Docker;
  private readonly logger: DockerBackendLogger;
  private readonly images: ImageResolver;
  private readonly listRuntimes: () => Promise<string[]>;
  private runtimes: Promise<string[]> | undefined;
  private readonly runs = new Map<string, DockerRun>();
  private readonly steps = new Map<string, DockerStep>();
  /** Services of started steps, by step key, kept apart so a failed start still cleans them. */
  private readonly services = new Map<string, StartedServices>();
  /** Starts per step, never reset, so a retry gets a fresh container name. */
  private readonly attempts = new Map<string, number>();

  constructor(options: DockerBackendOptions = {}) {
    this.docker = options.docker ?? new Docker();
    this.logger = options.logger ?? { warn: (message) => console.warn(message) };
    this.images = new ImageResolver(this.docker);
    this.caches = new DockerCacheStore(this.docker);
    this.listRuntimes =
      options.listRuntimes ?? (async () => Object.keys((await this.docker.info()).Runtimes ?? {}));
  }

  async isAvailable(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
    });
    const ping = this.docker.ping().then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([ping, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async setupRun(run: RunContext, inputs: RunInputs): Promise<void> {
    const steps = run.plan.steps.filter((s) => s.skip === undefined);
    const environments = new Map<string, ResolvedEnvironment>();
    for (const step of steps) {
      environments.set(environmentKey(step.environment), step.environment);
      for (const service of step.services ?? [])
        environments.set(environmentKey(service.environment), service.environment);
    }
    const images = new Map<string, string>();
    await Promise.all(
      [...environments].map(async ([key, environment]) => {
        images.set(
          key,
          await this.images.resolve(environment, (message) => run.notice(message), run.plan.workspace),
        );
      }),
    );
    const first = steps[0];
    if (!first) {
      this.runs.set(run.id, { images, volume: '', removals: new Set(), caches: new Map() });
      return;
    }
    const owner = parseOwner(first.environment.user);
    if (!owner.numeric) {
      run.notice(
        `user '${first.environment.user}' is a name, not uid:gid: the workspace is owned by ${owner.uid}:${owner.gid}`,
      );
    }
    const workspace = await createWorkspaceVolume(this.docker, {
      runId: run.id,
      source: run.plan.workspace,
      files: inputs.workspaceFiles,
      image: this.imageFor(first, images),
      owner,
    });
    const state: DockerRun = {
      images,
      volume: workspace.name,
      removals: new Set(),
      caches: new Map(),
    };
    this.runs.set(run.id, state);
    this.inBackground(state, workspace.seedRemoved);
    state.caches = await this.prepareCaches(run, steps, inputs, images);
  }

  /** One after another: matrix steps share their caches, and a volume is prepared once. */
  private async prepareCaches(
    run: RunContext,
    steps: PlannedStep[],
    inputs: RunInputs,
    images: Map<string, string>,
  ): Promise<Map<string, CacheMount[]>> {
    const caches = new Map<string, CacheMount[]>();
    for (const step of steps) {
      const stepCaches = inputs.caches.get(step.name);
      if (stepCaches === undefined) continue;
      const mounts: CacheMount[] = [];
      for (const cache of stepCaches) {
        const volume = await ensureCacheVolume(this.docker, {
          runId: run.id,
          cache,
          image: this.imageFor(step, images),
          owner: parseOwner(step.environment.user),
        });
        mounts.push({ volume, path: cache.path });
      }
      caches.set(step.name, mounts);
    }
    return caches;
  }

  async startStep(step: PlannedStep, run: RunContext): Promise<void> {
    const state = this.runState(run);
    const runtime = requireRuntime(
      step.environment,
      step.environment.runtime === 'gvisor' ? await this.engineRuntimes() : [],
    );
    const key = stepKey(step, run);
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const image = this.imageFor(step, state.images);
    const services = await this.startStepServices(step, run, key, attempt, state.images);
    const options = stepContainerOptions({
      step,
      run,
      image,
      volume: state.volume,
      attempt,
      caches: state.caches.get(step.name) ?? [],
      ...(runtime === undefined ? {} : { runtime }),
      ...(services === undefined ? {} : { serviceNetwork: services.networkName }),
    });
    options.Env = withReportsEnv(options.Env, step);
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(options);
      // A bridge step was created on bridge; it reaches its services through a second network.
      if (services !== undefined && step.environment.network === 'bridge')
        await services.network.connect({ Container: container.id });
    } catch (error) {
      throw dockerFailure('GBCMS_ERR_START', `could not create the container of step '${step.name}'`, error);
    }
    run.environment?.(step.name, { containerId: container.id, image });
    let output: NodeJS.ReadableStream;
    try {
      output = await container.attach({ stream: true, stdout: true, stderr: true, hijack: true });
    } catch (error) {
      await this.removeStep(container).catch(() => undefined);
      throw dockerFailure('GBCMS_ERR_START', `could not attach to step '${step.name}'`, error);
    }
    let kills: KillWatch;
    try {
      kills = await watchKills(this.docker, container.id);
    } catch (error) {
      await this.removeStep(container).catch(() => undefined);
      throw dockerFailure('GBCMS_ERR_START', `could not follow the events of step '${step.name}'`, error);
    }
    this.steps.set(key, { container, output, kills });
    try {
      await container.start();
    } catch (error) {
      throw dockerFailure('GBCMS_ERR_START', `could not start step '${step.name}'`, error);
    }
  }

  private async startStepServices(
    step: PlannedStep,
    run: RunContext,
    key: string,
    attempt: number,
    images: Map<string, string>,
  ): Promise<StartedServices | undefined> {
    if (step.services === undefined || step.services.length === 0) return undefined;
    // A previous attempt's services go before this attempt's start.
    await this.destroyServices(key);
    const started = await startServices(this.docker, {
      runId: run.id,
      step,
      attempt,
      services: step.services,
      imageOf: (service) => this.imageOf(service.environment, images, `service '${service.name}'`),
    });
    this.services.set(key, started);
    return started;
  }

  private async destroyServices(key: string): Promise<void> {
    const started = this.services.get(key);
    if (!started) return;
    this.services.delete(key);
    await removeServices(started);
  }

  async *tailStep(step: PlannedStep, run: RunContext): AsyncIterable<OutputChunk> {
    yield* demux(this.stepState(step, run).output);
  }

  async waitStep(
    step: PlannedStep,
    run: RunContext,
    signal: AbortSignal,
    graceMs: number,
  ): Promise<StepExit> {
    const { container, kills } = this.stepState(step, run);
    const stop = () => {
      container.stop({ t: Math.max(0, Math.ceil(graceMs / 1000)) }).catch((error: unknown) => {
        // 304: it already stopped on its own, which is what we wanted.
        if (statusCode(error) !== 304 && !isGoneOrGoing(error)) {
          this.logger.warn(`could not stop step '${step.name}': ${dockerReason(error)}`);
        }
      });
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    try {
      const result = (await container.wait()) as { StatusCode?: number };
      // A clean exit cannot be an out-of-memory kill: spare the inspect round trip.
      if (result.StatusCode === 0) return { exitCode: 0, oomKilled: false };
      const info = await container.inspect();
      const exit: StepExit = {
        exitCode: result.StatusCode ?? info.State.ExitCode,
        oomKilled: info.State.OOMKilled === true,
        scratch: [...SCRATCH_PATHS],
      };
      // Read after the inspect round trip: the daemon logs a kill as it signals, well before
      // the exit it causes has gone through containerd and back to the wait.
      const outside = signal.aborted ? undefined : kills.killSignal();
      return outside === undefined ? exit : { ...exit, stoppedFromOutside: stoppedByDaemon(outside) };
    } catch (error) {
      if (isConnectionLoss(error)) {
        throw new BackendError('GBCMS_ERR_DOCKER_LOST', lostDaemon(step.name, dockerReason(error)), {
          cause: error,
        });
      }
      throw dockerFailure('GBCMS_ERR_DOCKER', `lost step '${step.name}' while waiting for it`, error);
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }

  async fetchArchive(step: PlannedStep, run: RunContext, path: string): Promise<Readable | undefined> {
    const state = this.steps.get(stepKey(step, run));
    const relative = workspaceRelative(path);
    if (!state || relative === undefined) return undefined;
    try {
      // dockerode hands over the HTTP response: a Node Readable.
      return (await state.container.getArchive({ path: posix.join(WORKSPACE_PATH, relative) })) as Readable;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw dockerFailure('GBCMS_ERR_DOCKER', `could not read '${relative}' from step '${step.name}'`, error);
    }
  }

  /**
   * A step's result is known once it exited and its artifacts are out: the removal of its
   * container (about as long as its start) goes on in the background while the next step
   * starts, and destroyRun waits for it. A failed removal is told as a notice.
   */
  async destroyStep(step: PlannedStep, run: RunContext): Promise<void> {
    const key = stepKey(step, run);
    const state = this.steps.get(key);
    this.steps.delete(key);
    state?.kills.close();
    const removal = (async () => {
      if (state) await this.removeStep(state.container);
      await this.destroyServices(key);
    })();
    const runState = this.runs.get(run.id);
    if (!runState) return removal;
    this.inBackground(
      runState,
      removal.catch((error: unknown) =>
        run.notice(
          `could not remove step resources: ${error instanceof Error ? error.message : String(error)}`,
          step.name,
        ),
      ),
    );
  }

  private inBackground(state: DockerRun, work: Promise<void>): void {
    state.removals.add(work);
    void work.finally(() => state.removals.delete(work));
  }

  async destroyRun(runId: string): Promise<void> {
    const ofRun = (key: string) => key.startsWith(`${runId}\0`);
    for (const [key, step] of this.steps) {
      if (!ofRun(key)) continue;
      step.kills.close();
      this.steps.delete(key);
    }
    for (const key of this.services.keys()) if (ofRun(key)) this.services.delete(key);
    for (const key of this.attempts.keys()) if (ofRun(key)) this.attempts.delete(key);
    const removals = [...(this.runs.get(runId)?.removals ?? [])];
    this.runs.delete(runId);
    await Promise.all(removals);
    await removeRunResources(this.docker, runId);
  }

  leftoverRuns(): Promise<string[]> {
    return listRunsWithResources(this.docker);
  }

  private async removeStep(container: Docker.Container): Promise<void> {
    try {
      await container.remove({ force: true });
    } catch (error) {
      if (!isGoneOrGoing(error)) throw error;
    }
  }

  /** Asked once per backend: registering a runtime needs an engine reload anyway. */
  private engineRuntimes(): Promise<string[]> {
    this.runtimes ??= this.listRuntimes().catch((error: unknown) => {
      this.runtimes = undefined;
      throw dockerFailure('GBCMS_ERR_DOCKER', `could not ask Docker for its runtimes`, error);
    });
    return this.runtimes;
  }

  private imageFor(step: PlannedStep, images: Map<string, string>): string {
    return this.imageOf(step.environment, images, `step '${step.name}'`);
  }

  private imageOf(environment: ResolvedEnvironment, images: Map<string, string>, what: string): string {
    const image = images.get(environmentKey(environment));
    if (image === undefined) throw new Error(`docker backend: no image resolved for ${what}`);
    return image;
  }

  private runState(run: RunContext): DockerRun {
    const state = this.runs.get(run.id);
    if (!state) throw new Error(`docker backend: run ${run.id} was not set up`);
    return state;
  }

  private stepState(step: PlannedStep, run: RunContext): DockerStep {
    const state = this.steps.get(stepKey(step, run));
    if (!state) throw new Error(`docker backend: step '${step.name}' of run ${run.id} was not started`);
    return state;
  }
}
