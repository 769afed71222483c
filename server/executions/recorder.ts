// Turns what a run reports into stored rows and stream events. Events go to subscribers at
// once; step records, artifacts and environments go to the store one write at a time, in the
// order they happened, so a late write never overwrites a newer state. Reports go to the store
// in batches and to subscribers once stored (report-sink.ts).
import { join } from 'node:path';
import { WAITING_FOR_APPROVAL } from '../../engine/approval.ts';
import type { ArtifactRecord } from '../../engine/backends/types.ts';
import type { RunEvent, RunObserver } from '../../engine/events.ts';
import type { ApprovalGate, Plan } from '../../engine/plan.ts';
import type { StepRecord } from '../../engine/run-record.ts';
import { deriveRunStatus, isFinished, type StepStatus } from '../../engine/status.ts';
import type { EnvironmentType, Execution, Store } from '../store/index.ts';
import { artifactEvent, type EventBody, logEvent, stepEvent } from './event-shapes.ts';
import { LogIndex } from './log-index.ts';
import type { ExecutionLogger } from './logger.ts';
import { ReportSink } from './report-sink.ts';
import { graphOf, writeStepGraph } from './step-graph.ts';

export interface RecorderOptions {
  store: Store;
  execution: Execution;
  plan: Plan;
  /** Absolute folder of the run (the execution's logs_dir). */
  runDir: string;
  environmentType: EnvironmentType;
  logger: ExecutionLogger;
  publish(body: EventBody): void;
  /**
   * The execution's status changed (it started; all its unfinished steps wait at approval
   * gates; one of them goes on): `execution` is the row as it now is.
   */
  onStatus(execution: Execution): void;
  onStepEnded(step: StepRecord): void;
  /** How long reports wait to be stored together; default 250 ms. */
  reportFlushMs?: number;
}

export class RunRecorder {
  /** Steps with a container (or process) now. */
  readonly runningSteps = new Set<string>();
  readonly #options: RecorderOptions;
  readonly #positions: Map<string, number>;
  readonly #images: Map<string, string | null>;
  readonly #logFiles = new Map<string, string>();
  /** Environment row id by step name; '' is the run's own (workspace). */
  readonly #environments = new Map<string, string>();
  /** Steps whose current environment row already names a container. */
  readonly #withContainer = new Set<string>();
  #writes: Promise<void> = Promise.resolve();
  #started = false;
  /** The row as last told: its status follows the steps' (running <-> blocked). */
  #execution: Execution;
  readonly #stepStatuses = new Map<string, StepStatus>();
  #artifacts: ArtifactRecord[] = [];
  readonly #reports: ReportSink;
  readonly #logIndex: LogIndex;

  constructor(options: RecorderOptions) {
    this.#options = options;
    this.#execution = options.execution;
    const { store, execution, logger } = options;
    this.#reports = new ReportSink({
      store,
      executionId: execution.id,
      publish: options.publish,
      flushMs: options.reportFlushMs,
      onError: (error) =>
        logger.error({ err: error, execution: execution.id }, "could not store the execution's reports"),
    });
    this.#logIndex = new LogIndex({
      store,
      executionId: execution.id,
      projectId: execution.project_id,
      onError: (error) =>
        logger.error({ err: error, execution: execution.id }, "could not index the execution's logs"),
    });
    this.#positions = new Map(options.plan.steps.map((step, index) => [step.name, index]));
    this.#images = new Map(options.plan.steps.map((step) => [step.name, step.environment.image ?? null]));
  }

  /** Absolute path of a step's log file, once the run has named it. */
  logFile(step: string): string | undefined {
    return this.#logFiles.get(step);
  }

  readonly observe: RunObserver = (event: RunEvent) => {
    const { publish } = this.#options;
    switch (event.type) {
      case 'run':
        if (!this.#started) this.#runStarted(event.run.started_at, event.run.steps);
        return;
      case 'step':
        publish(stepEvent(event.step));
        this.#stepChanged(event.step);
        return;
      case 'log':
        publish(logEvent(event.step, event.line));
        this.#logIndex.add(event.step, event.line);
        return;
      case 'notice':
        publish(event.step === undefined ? { type: 'notice', message: event.message } : { ...event });
        return;
      case 'artifact':
        publish(artifactEvent(event.artifact));
        this.#artifactCollected(event.artifact);
        return;
      case 'report':
        this.#reports.add(event.step, event.report);
        return;
      case 'environment':
        // Bookkeeping for cleanup after a crash; viewers have nothing to do with a container id.
        this.#write(() => this.#containerCreated(event.step, event.container_id, event.image));
        return;
      case 'cache': {
        // Orders the cache sweep's removals: least recently used first.
        const { key, scope, slot } = event.cache;
        const projectId = this.#options.execution.project_id;
        this.#write(() => this.#options.store.caches.touch({ key, projectId, scope, slot }));
        return;
      }
    }
  };

  /**
   * Followed on from a server that died (several servers): the run started there, and its
   * steps stand as that server last recorded them.
   */
  resumeStarted(steps: readonly StepRecord[]): void {
    this.#started = true;
    const { runDir } = this.#options;
    for (const step of steps) {
      this.#logFiles.set(step.name, join(runDir, step.log));
      this.#stepStatuses.set(step.name, step.status);
      if (step.status === 'running') this.runningSteps.add(step.name);
    }
  }

  /** A step's approval gate opened: what it asks is stored after the step's own record. */
  gateOpened(step: string, gate: ApprovalGate): void {
    const { store, execution } = this.#options;
    const message = gate.message ?? WAITING_FOR_APPROVAL;
    this.#write(() => store.steps.openGate(execution.id, step, { message, approvers: gate.approvers }));
  }

  /**
   * Stores the last reports and log lines to search, marks the run's shared environment
   * destroyed and waits for every write.
   */
  async finish(): Promise<void> {
    this.#write(() => this.#destroyEnvironment(''));
    await Promise.all([this.#reports.close(), this.#logIndex.close(), this.#writes]);
    if (this.#logIndex.skipped > 0) {
      const { logger, execution } = this.#options;
      logger.warn(
        { execution: execution.id, lines: this.#logIndex.skipped },
        'some log lines were not indexed for search (too many, or printed faster than the index took them)',
      );
    }
  }

  #runStarted(startedAt: string, steps: readonly StepRecord[]): void {
    this.#started = true;
    const { store, execution, runDir } = this.#options;
    for (const step of steps) this.#logFiles.set(step.name, join(runDir, step.log));
    for (const step of steps) this.#stepStatuses.set(step.name, step.status);
    const running: Execution = { ...execution, status: 'running', started_at: startedAt };
    this.#execution = running;
    this.#options.publish({ type: 'status', execution: running });
    this.#options.onStatus(running);
    this.#write(async () => {
      await store.executions.setStarted(execution.id, startedAt);
      // Only the run page's graph needs it: a run goes on without it.
      await writeStepGraph(runDir, graphOf(this.#options.plan)).catch(() => undefined);
      for (const step of steps) await store.steps.upsert(execution.id, step, this.#positions.get(step.name));
      await this.#recordEnvironment('', null);
    });
  }

  #stepChanged(step: StepRecord): void {
    const { store, execution } = this.#options;
    this.#write(() => store.steps.upsert(execution.id, step, this.#positions.get(step.name)));
    this.#stepStatuses.set(step.name, step.status);
    this.#followGates();
    if (step.status === 'running' && !this.runningSteps.has(step.name)) {
      this.runningSteps.add(step.name);
      this.#write(() => this.#recordEnvironment(step.name, this.#images.get(step.name) ?? null));
    }
    if (isFinished(step.status)) {
      // Its last reports reach viewers now rather than at the next tick of the batch timer.
      void this.#reports.flush();
      this.runningSteps.delete(step.name);
      this.#write(() => this.#destroyEnvironment(step.name));
      this.#options.onStepEnded(step);
    }
  }

  /**
   * The execution is `blocked` while nothing runs and a step waits at an approval gate (as the
   * engine derives a run's status), and `running` again once one goes on.
   */
  #followGates(): void {
    const derived = deriveRunStatus([...this.#stepStatuses.values()]);
    const current = this.#execution.status;
    const next =
      derived === 'blocked' ? 'blocked' : current === 'blocked' && !isFinished(derived) ? 'running' : current;
    if (next === current) return;
    const { store, execution } = this.#options;
    this.#execution = { ...this.#execution, status: next };
    this.#write(async () => {
      await store.executions.setWaiting(execution.id, next === 'blocked');
    });
    this.#options.publish({ type: 'status', execution: this.#execution });
    this.#options.onStatus(this.#execution);
  }

  #artifactCollected(artifact: ArtifactRecord): void {
    this.#artifacts.push(artifact);
    // A step's artifacts arrive together: the first one schedules one write for the lot.
    if (this.#artifacts.length > 1) return;
    this.#write(() => {
      const batch = this.#artifacts;
      this.#artifacts = [];
      return this.#options.store.artifacts.add(this.#options.execution.id, batch);
    });
  }

  async #recordEnvironment(
    step: string,
    image: string | null,
    containerId: string | null = null,
  ): Promise<void> {
    const { store, execution, environmentType } = this.#options;
    const row = await store.environments.record({
      execution_id: execution.id,
      step: step === '' ? null : step,
      type: environmentType,
      container_id: containerId,
      image,
    });
    this.#environments.set(step, row.id);
    if (containerId !== null) this.#withContainer.add(step);
  }

  /**
   * The first container of a step fills in the row its start recorded. A retry's container is
   * another environment: the previous one was removed before it, so that row closes and a new
   * one opens, one row per container.
   */
  async #containerCreated(step: string, containerId: string, image: string): Promise<void> {
    const { store } = this.#options;
    const id = this.#environments.get(step);
    if (id !== undefined && !this.#withContainer.has(step)) {
      await store.environments.setContainer(id, containerId, image);
      this.#withContainer.add(step);
      return;
    }
    if (id !== undefined) await store.environments.markDestroyed(id);
    await this.#recordEnvironment(step, image, containerId);
  }

  async #destroyEnvironment(step: string): Promise<void> {
    const id = this.#environments.get(step);
    if (id !== undefined) await this.#options.store.environments.markDestroyed(id);
  }

  #write(work: () => Promise<void>): void {
    const { logger, execution } = this.#options;
    this.#writes = this.#writes.then(work).catch((error: unknown) => {
      logger.error({ err: error, execution: execution.id }, 'could not record the execution progress');
    });
  }
}
