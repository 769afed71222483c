// The default executor: each step is one hardened container (see convert.ts) on a per-run
// workspace volume. Output comes through attach, opened before start so nothing is lost,
// with the log driver off. Every resource is labelled with the run, so destroyRun finds them by
// label rather than by what this process remembers, after a crash too.
import { posix } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import Docker from 'dockerode';
import { type PlannedStep, workspaceRelative } from '../../plan.ts';
import {
  type Backend,
  BackendError,
  type OutputChunk,
  type PreparedStep,
  type RunContext,
  type RunInputs,
  type StepExit,
} from '../types.ts';
import { DockerCacheStore } from './cache-store.ts';
import { listRunsWithResources, removeRunResources } from './cleanup.ts';
import {
  GATE_OPEN,
  gatedContainerOptions,
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
import { lostDaemon, stoppedByDaemon } from './outside-stops.ts';
import { type DockerRun, environmentKey, imageFor, imageOf, setUpDockerRun, stepKey } from './run-setup.ts';
import { EngineRuntimes } from './runtimes.ts';
import { removeServices, type StartedServices, startServices } from './services.ts';
import {
  closeStepContainer,
  type DockerStep,
  openStepContainer,
  removeContainer,
  startStepContainer,
} from './step-container.ts';
import { withReportsEnv } from './step-files.ts';

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

export class DockerBackend implements Backend {
  readonly name = 'docker';
  /** The labelled cache volumes, for the server's sweep. */
  readonly caches: DockerCacheStore;
  private readonly docker: Docker;
  private readonly logger: DockerBackendLogger;
  private readonly images: ImageResolver;
  private readonly runtimes: EngineRuntimes;
  private readonly runs = new Map<string, DockerRun>();
  private readonly steps = new Map<string, DockerStep>();
  /** Containers prepared ahead of their turn and not released yet, by step key. */
  private readonly gated = new Map<string, DockerStep>();
  /** Services of started steps, by step key, kept apart so a failed start still cleans them. */
  private readonly services = new Map<string, StartedServices>();
  /** Starts per step, never reset, so a retry gets a fresh container name. */
  private readonly attempts = new Map<string, number>();

  constructor(options: DockerBackendOptions = {}) {
    this.docker = options.docker ?? new Docker();
    this.logger = options.logger ?? { warn: (message) => console.warn(message) };
    this.images = new ImageResolver(this.docker);
    this.caches = new DockerCacheStore(this.docker);
    this.runtimes = new EngineRuntimes(
      options.listRuntimes ?? (async () => Object.keys((await this.docker.info()).Runtimes ?? {})),
    );
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
    await setUpDockerRun(this.docker, this.images, run, inputs, (state, seedRemoved) => {
      this.runs.set(run.id, state);
      if (seedRemoved) this.inBackground(state, seedRemoved);
    });
  }

  async startStep(step: PlannedStep, run: RunContext): Promise<void> {
    const state = this.runState(run);
    const runtime = await this.runtimes.require(step.environment);
    const key = stepKey(step, run);
    const attempt = this.nextAttempt(key);
    const image = imageFor(step, state.images);
    const services = await this.startStepServices(step, run, key, attempt, state.images);
    const options = this.containerOptions(step, run, state, { image, attempt, runtime, services });
    const opened = await openStepContainer(this.docker, step, options, { services });
    run.environment?.(step.name, { containerId: opened.container.id, image });
    this.steps.set(key, opened);
    await startStepContainer(step, opened.container, runtime, this.runtimes);
  }

  /**
   * The first attempt's container, created, attached and started ahead with its script held at
   * a gate (gatedContainerOptions): release writes one line on the attach stream it already
   * holds. Services start with their step's attempt, so a step with services is not prepared;
   * nor is one whose image is not resolved yet. In-flight work is awaited by destroyRun, which
   * then removes by label whatever is left.
   */
  async prepareStep(step: PlannedStep, run: RunContext): Promise<PreparedStep | undefined> {
    const state = this.runs.get(run.id);
    const image = state?.images.get(environmentKey(step.environment));
    if (!state || image === undefined || (step.services?.length ?? 0) > 0) return undefined;
    const preparing = this.prepareGated(step, run, state, image);
    this.inBackground(
      state,
      preparing.then(
        () => undefined,
        () => undefined,
      ),
    );
    return preparing;
  }

  private async prepareGated(
    step: PlannedStep,
    run: RunContext,
    state: DockerRun,
    image: string,
  ): Promise<PreparedStep | undefined> {
    const runtime = await this.runtimes.require(step.environment);
    const key = stepKey(step, run);
    const attempt = this.nextAttempt(key);
    const options = this.containerOptions(step, run, state, { image, attempt, runtime, services: undefined });
    const opened = await openStepContainer(this.docker, step, gatedContainerOptions(options), {
      stdin: true,
    });
    this.gated.set(key, opened);
    const discard = async () => {
      if (this.gated.get(key) !== opened) return;
      this.gated.delete(key);
      const removal = closeStepContainer(opened);
      const runState = this.runs.get(run.id);
      if (runState)
        this.inBackground(
          runState,
          removal.catch(() => undefined),
        );
      else await removal;
    };
    try {
      await startStepContainer(step, opened.container, runtime, this.runtimes);
    } catch {
      // startStep will try again and say why.
      await discard();
      return undefined;
    }
    return {
      release: async () => {
        if (this.gated.get(key) !== opened)
          throw new Error(`docker backend: step '${step.name}' is not prepared`);
        this.gated.delete(key);
        run.environment?.(step.name, { containerId: opened.container.id, image });
        this.steps.set(key, opened);
        (opened.output as Duplex).end(GATE_OPEN);
      },
      discard,
    };
  }

  private nextAttempt(key: string): number {
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    return attempt;
  }

  private containerOptions(
    step: PlannedStep,
    run: RunContext,
    state: DockerRun,
    input: {
      image: string;
      attempt: number;
      runtime: string | undefined;
      services: StartedServices | undefined;
    },
  ): Docker.ContainerCreateOptions {
    const { image, attempt, runtime, services } = input;
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
    return options;
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
      imageOf: (service) => imageOf(service.environment, images, `service '${service.name}'`),
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
      const waited = container.wait() as Promise<{ StatusCode?: number }>;
      // Whichever says first: the wait still tells a lost daemon; the die event comes sooner.
      const result = await Promise.race([waited, kills.died.then((code) => ({ StatusCode: code }))]);
      waited.catch(() => undefined);
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
      if (state) await removeContainer(state.container);
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
    for (const [key, step] of this.gated) {
      if (!ofRun(key)) continue;
      step.kills.close();
      (step.output as Duplex).destroy();
      this.gated.delete(key);
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
