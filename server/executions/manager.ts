// The execution manager: the server's one way to run pipelines. Executions read their pipeline
// file (a few at a time), take their concurrency group's turn, wait in a FIFO queue for a slot
// (per project and overall), run in the background, are watched through their event streams
// and can be terminated. One started with `awaitApproval` is held `blocked` outside the queue
// (held.ts) until approve() queues it or terminate() ends it. At startup recover() settles what
// a previous process (or a dead peer: takeOverFrom()) left behind; at shutdown drain() lets
// running work finish for a while, then stops it. External executions (external.ts) hold no
// slot and have no steps, only reports. One execution's way from admission to end is job.ts.
//
// Metrics and other observers listen on `manager.events`:
//   manager.events.on('status', (execution) => ...)     blocked, queued (pending), running, or ended
//   manager.events.on('step-ended', ({ execution, step }) => ...)   step.duration_ms, step.status
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { FileSchedules } from '../schedules/file-schedules.ts';
import type { Execution } from '../store/index.ts';
import { ClusterSlots } from './cluster-slots.ts';
import { ShuttingDownError } from './errors.ts';
import type { EventStream } from './event-stream.ts';
import { ExternalExecutions } from './external.ts';
import { followRemote } from './followed-job.ts';
import { GroupTurns, queueSlot } from './group-turns.ts';
import { HeldExecutions } from './held.ts';
import { endJob, type Job, type JobContext, runJob, TERMINATED_BY_USER } from './job.ts';
import type { ExecutionManagerOptions, ManagerEvents, RecoveryReport, StepEnded } from './manager-types.ts';
import { ReadLimit } from './read-limit.ts';
import { type RunCleaner, runCleaner } from './recovery.ts';
import { recoveries, terminateLeftBehind } from './restart-recovery.ts';
import { SlotQueue } from './slots.ts';
import { type OpenGate, StepGates } from './step-gates.ts';
import { sourceRepoOf, withDefaultBranch } from './stored-request.ts';
import { StreamRegistry } from './stream-registry.ts';
import { ExecutionSweeps } from './sweeps.ts';
import type {
  ExecutionControl,
  ExecutionEvent,
  ManagerStats,
  StartExecutionRequest,
  StepDecision,
  TerminateResult,
} from './types.ts';

export { TERMINATED_BY_USER } from './job.ts';
export type { ExecutionManagerOptions, ManagerEvents, RecoveryReport, StepEnded } from './manager-types.ts';
export const SHUT_DOWN = 'terminated: the server shut down';

export class ExecutionManager implements ExecutionControl {
  readonly events = new EventEmitter<ManagerEvents>();
  readonly external: ExternalExecutions;
  /** Schedules from the default branch's pipeline file: synced by pushes, and by syncAll() at start. */
  readonly fileSchedules: FileSchedules;
  /** Retention, caches and backend leftovers of ended executions. */
  readonly sweeps: ExecutionSweeps;
  readonly #options: ExecutionManagerOptions;
  readonly #now: () => Date;
  readonly #queue: SlotQueue<Job>;
  /** The slots in the database: the limits held across every server sharing it. */
  readonly #cluster: ClusterSlots;
  /** Executions fetching their source and reading their file before they wait for a slot. */
  readonly #reads: ReadLimit;
  /** Waiting and running executions. */
  readonly #jobs = new Map<string, Job>();
  readonly #held: HeldExecutions;
  readonly #gates: StepGates;
  readonly #streams: StreamRegistry;
  /**
   * The job each live stream serves. A stream may open before its job (a blocked execution's
   * page follows it) and outlives it: after the end it still rebuilds evicted events from the
   * job's log files, so the job is found here rather than among the running ones.
   */
  readonly #jobOfStream = new WeakMap<EventStream, Job>();
  readonly #jobContext: JobContext;
  /** Removes a run's backend resources, from its id alone. */
  readonly #clean: RunCleaner;
  readonly #recoveries: ReturnType<typeof recoveries>;
  #draining = false;

  constructor(options: ExecutionManagerOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    const maxRunning = options.maxRunning ?? availableParallelism();
    this.#queue = new SlotQueue(maxRunning);
    this.#cluster = new ClusterSlots({
      slots: options.store.slots,
      maxRunning,
      logger: options.logger,
      retry: () => this.#dispatch(),
      ...(options.clusterRetryMs !== undefined ? { retryMs: options.clusterRetryMs } : {}),
    });
    // As many reads at once as runs: enough to keep the slots busy, not a fetch per pending one.
    this.#reads = new ReadLimit(maxRunning);
    this.#clean = runCleaner(options.backend, options.logger);
    this.#streams = new StreamRegistry(options);
    this.#held = new HeldExecutions({
      store: options.store,
      ending: {
        store: options.store,
        logger: options.logger,
        emitStatus: (execution) => this.#emitStatus(execution),
        retireStream: (id) => this.#streams.retire(id),
      },
      openStream: (id) => this.#openStream(id),
      stamp: () => this.#stamp(),
    });
    this.#gates = new StepGates({
      store: options.store,
      logger: options.logger,
      stamp: () => this.#stamp(),
      opened: (id, step, gate) => this.#jobs.get(id)?.recorder?.gateOpened(step, gate),
    });
    this.fileSchedules = new FileSchedules({
      store: options.store,
      dataDir: options.dataDir,
      logger: options.logger,
      now: this.#now,
    });
    this.#jobContext = {
      options,
      turns: new GroupTurns(),
      slot: (job) => queueSlot(job, this.#queue, () => this.#dispatch(), this.#cluster),
      read: (signal) => this.#reads.acquire(signal),
      terminate: (id, reason) => void this.terminate(id, reason),
      fileSchedules: this.fileSchedules,
      stamp: () => this.#stamp(),
      emitStatus: (execution) => this.#emitStatus(execution),
      gates: this.#gates,
      emitStepEnded: (ended) => this.#emitStepEnded(ended),
      retireStream: (id) => this.#streams.retire(id),
    };
    this.external = new ExternalExecutions({
      store: options.store,
      logger: options.logger,
      now: this.#now,
      minHeartbeatTimeoutS: options.minHeartbeatTimeoutS,
      sweepIntervalMs: options.heartbeatSweepMs,
      reportFlushMs: options.reportFlushMs,
      limits: options.reportLimits,
      openStream: (execution) => this.#streams.open(execution.id, () => undefined),
      retireStream: (id) => this.#streams.retire(id),
      emitStatus: (execution) => this.#emitStatus(execution),
      draining: () => this.#draining,
    });
    this.external.startSweeper();
    this.sweeps = new ExecutionSweeps({ ...options, now: this.#now, isRunning: (id) => this.#jobs.has(id) });
    this.#recoveries = recoveries(
      {
        store: options.store,
        dataDir: options.dataDir,
        logger: options.logger,
        external: this.external,
        clean: this.#clean,
        stamp: () => this.#stamp(),
        isManaged: (id) => this.#jobs.has(id),
        isHeld: (id) => this.#held.has(id),
        admit: (execution, request) => this.#admit(execution, request),
        hold: (execution) => this.#held.hold(execution),
        emitStatus: (execution) => this.#emitStatus(execution),
        followRemote: (execution) => this.#followRemote(execution),
      },
      options.members,
    );
  }

  async start(request: StartExecutionRequest): Promise<Execution> {
    if (this.#draining) throw new ShuttingDownError();
    const trigger = withDefaultBranch(request);
    const execution = await this.#options.store.executions.create({
      project_id: request.project.id,
      trigger,
      message: request.message ?? null,
      rerun_of: request.rerunOf ?? null,
      rerun_from_failed: request.fromFailed === true,
      blocked: request.awaitApproval === true,
      source_repo: sourceRepoOf(request.source),
      server: this.#options.members?.name ?? null,
    });
    // Before it is queued: status observers look the forge up when they hear `pending`.
    if (request.forge) await this.#options.store.forges.set(execution.id, request.forge);
    if (execution.status === 'blocked') {
      this.#options.logger.info(
        { execution: execution.id, project: request.project.id },
        'execution waits for approval',
      );
      this.#held.hold(execution);
      this.#emitStatus(execution);
      return execution;
    }
    this.#options.logger.info(
      { execution: execution.id, project: request.project.id, requestedBy: request.requestedBy },
      'execution queued',
    );
    // Queued even when a drain began meanwhile: it stays pending and the next start's recover() runs it.
    this.#admit(execution, { ...request, trigger });
    return execution;
  }

  async terminate(executionId: string, reason = TERMINATED_BY_USER): Promise<TerminateResult | undefined> {
    const held = this.#held.take(executionId);
    if (held) return terminated(await this.#held.end(held, reason));
    const job = this.#jobs.get(executionId);
    if (!job) {
      const { store } = this.#options;
      const ctx = { store, external: this.external, clean: this.#clean, stamp: () => this.#stamp() };
      return terminateLeftBehind({ ...ctx, emitStatus: (e) => this.#emitStatus(e) }, executionId, reason);
    }
    // Admitted during a drain, it never began: it only leaves the queue. Any other is under
    // way (reading its file, waiting for its group or its slot, running): its abort ends it.
    if (!job.done && this.#queue.remove(executionId)) {
      job.stopReason = reason;
      job.done = endJob(job, { status: 'killed', reason }, this.#jobContext).finally(() =>
        this.#jobs.delete(executionId),
      );
    } else {
      job.stopReason ??= reason;
      job.controller.abort();
    }
    await job.done;
    return terminated(job.execution);
  }

  approve(executionId: string, username: string): Promise<Execution | undefined> {
    return this.#held.approve(executionId, username, (execution, request) => this.#admit(execution, request));
  }

  stepGate(executionId: string, step: string): OpenGate | undefined {
    return this.#gates.get(executionId, step);
  }

  decideStep(executionId: string, step: string, decision: StepDecision): Promise<boolean> {
    return this.#gates.decide(executionId, step, decision);
  }

  subscribe(executionId: string, listener: (event: ExecutionEvent) => void, afterId?: number) {
    return this.#streams.subscribe(executionId, listener, afterId);
  }

  /**
   * A notice in the execution's live stream (its log on the run page), from outside the run:
   * forge status reporting. False once the execution has ended: its stream takes no more.
   */
  notice(executionId: string, message: string): boolean {
    const stream = this.#streams.get(executionId);
    if (!stream || stream.ended) return false;
    stream.publish({ type: 'notice', message });
    return true;
  }

  /**
   * `running` counts executions holding a slot (their file read, their group's turn come);
   * `pending` the others this manager runs: reading their file, waiting for their group or a slot.
   */
  stats(): ManagerStats {
    let runningSteps = 0;
    for (const job of this.#queue.runningItems()) runningSteps += job.recorder?.runningSteps.size ?? 0;
    const running = this.#queue.running;
    return { pending: this.#jobs.size - running, running, runningSteps };
  }

  /** For startup, before anything is started: what the previous process left (restart-recovery.ts). */
  recover(): Promise<RecoveryReport> {
    return this.#streams.takingUp(this.#recoveries.afterRestart());
  }

  /** Takes up the executions of a server that stopped answering (cluster/members.ts). */
  takeOverFrom(server: string): Promise<RecoveryReport> {
    return this.#streams.takingUp(this.#recoveries.takeOverFrom(server));
  }

  /**
   * For SIGTERM: takes no new executions (start() throws ShuttingDownError), waits up to
   * `graceMs` for the running ones, then terminates the rest. Waiting ones stay pending for the
   * next start. Resolves when nothing runs.
   */
  async drain(graceMs: number): Promise<void> {
    this.#draining = true;
    this.#cluster.stop();
    // Those without a slot never get one now: they stop reading or waiting, and stay pending.
    const waiting = [...this.#jobs.values()].filter((job) => job.done && !this.#queue.isRunning(job.id));
    const stopped = waiting.map((job) => {
      job.leftPending = true;
      job.controller.abort();
      return job.done;
    });
    // External executions stay running (their reporters do): the next start follows them again.
    await this.external.stop();
    await Promise.all(stopped);
    const running = () => this.#queue.runningItems();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.all(running().map((job) => job.done)), graceOver]);
    clearTimeout(timer);
    await Promise.all(running().map((job) => this.terminate(job.id, SHUT_DOWN)));
  }

  /** A run a runner holds, left by a server that died: followed on here (followed-job.ts). */
  #followRemote(execution: Execution): Promise<boolean> {
    return followRemote(
      {
        jobContext: this.#jobContext,
        draining: () => this.#draining,
        stream: (id) => this.#streams.get(id) ?? this.#openStream(id),
        enlist: (job, run) => {
          this.#jobOfStream.set(job.stream, job);
          this.#jobs.set(job.id, job);
          this.#queue.hold(job);
          job.done = run().finally(() => {
            this.#queue.release(job.id);
            this.#jobs.delete(job.id);
            this.#dispatch();
          });
        },
      },
      execution,
    );
  }

  #admit(execution: Execution, request: StartExecutionRequest): void {
    const job: Job = {
      id: execution.id,
      projectId: execution.project_id,
      projectLimit: request.project.max_concurrent,
      execution,
      request,
      controller: new AbortController(),
      // An approved execution keeps the stream it had while blocked: its page follows on.
      stream: this.#streams.get(execution.id) ?? this.#openStream(execution.id),
    };
    this.#jobOfStream.set(job.stream, job);
    this.#jobs.set(job.id, job);
    job.stream.publish({ type: 'status', execution });
    this.#emitStatus(execution);
    // In line from now, in creation order, though it may take a slot only once its file is read.
    job.reading = true;
    this.#queue.enqueue(job);
    // During a drain it stays pending for the next start's recover().
    if (this.#draining) return;
    job.done = runJob(job, this.#jobContext).finally(async () => {
      this.#queue.remove(job.id);
      this.#queue.release(job.id);
      if (job.leftPending) {
        // Stopped by drain() before it held a slot: back in line, as one admitted during the drain.
        job.done = undefined;
        job.reading = true;
        this.#queue.enqueue(job);
        return;
      }
      this.#jobs.delete(job.id);
      // Those the database refused may ask again: its slot there went with its end (setEnded).
      this.#cluster.wake();
      this.#dispatch();
      // Should its end not have been recorded (the database failed), the slot goes all the same.
      await this.#cluster.release(job.id);
    });
  }

  /** Resumes the jobs that may take a slot now: their file is read, their group's turn come. */
  #dispatch(): void {
    if (this.#draining) return;
    for (const job of this.#queue.take()) {
      job.resume?.();
      job.resume = undefined;
    }
  }

  #openStream(executionId: string): EventStream {
    const stream = this.#streams.open(executionId, (step) =>
      this.#jobOfStream.get(stream)?.recorder?.logFile(step),
    );
    return stream;
  }

  #emitStatus(execution: Execution): void {
    try {
      this.events.emit('status', execution);
    } catch (error) {
      this.#options.logger.error({ err: error }, "a 'status' listener failed");
    }
  }

  #emitStepEnded(ended: StepEnded): void {
    try {
      this.events.emit('step-ended', ended);
    } catch (error) {
      this.#options.logger.error({ err: error }, "a 'step-ended' listener failed");
    }
  }

  #stamp(): string {
    return this.#now().toISOString();
  }
}

function terminated(execution: Execution): TerminateResult | undefined {
  if (execution.status !== 'killed') return undefined;
  return { execution_id: execution.id, terminated_at: execution.ended_at ?? new Date().toISOString() };
}
