// The execution manager: the server's one way to run pipelines. Executions read their pipeline
// file (a few at a time), take their concurrency group's turn, wait in a FIFO queue for a slot
// (per project and overall), run in the background, are watched through their event
// streams and can be terminated. One started with `awaitApproval` is held `blocked` outside the
// queue (held.ts) until approve() queues it or terminate() ends it. At startup recover() settles
// what a previous process left behind; at shutdown drain() lets running work finish for a while,
// then stops it.
//
// External executions (code gbcms did not start, reporting to the server) are followed by
// `manager.external` (external.ts): they hold no slot and have no steps, only reports.
// How one execution goes from its admission to its end is job.ts; where subscribers
// find live event streams is stream-registry.ts.
//
// Metrics and other observers listen on `manager.events`:
//   manager.events.on('status', (execution) => ...)     blocked, queued (pending), running, or ended
//   manager.events.on('step-ended', ({ execution, step }) => ...)   step.duration_ms, step.status
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { sweepLeftovers } from '../../engine/leftovers.ts';
import type { Trigger } from '../../engine/plan.ts';
import { isFinished } from '../../engine/status.ts';
import { FileSchedules } from '../schedules/file-schedules.ts';
import { type Execution, NotFoundError } from '../store/index.ts';
import { DEFAULT_CACHE_BUDGET_BYTES, sweepCaches } from './cache-sweep.ts';
import { ShuttingDownError } from './errors.ts';
import type { EventStream } from './event-stream.ts';
import { WORKSPACES_DIR } from './execute.ts';
import { ExternalExecutions } from './external.ts';
import { GroupTurns, queueSlot } from './group-turns.ts';
import { HeldExecutions } from './held.ts';
import { endJob, type Job, type JobContext, runJob, TERMINATED_BY_USER } from './job.ts';
import type { ExecutionManagerOptions, ManagerEvents, RecoveryReport, StepEnded } from './manager-types.ts';
import { ReadLimit } from './read-limit.ts';
import { failAbandoned, type RunCleaner, removeStaleWorkspaces, runCleaner } from './recovery.ts';
import { everyInterval, removeOldExecutions } from './retention.ts';
import { SlotQueue } from './slots.ts';
import { type OpenGate, StepGates } from './step-gates.ts';
import { replayStored, storedEvents } from './stored-replay.ts';
import { sourceRepoOf, storedRequest } from './stored-request.ts';
import { StreamRegistry } from './stream-registry.ts';
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
  readonly #options: ExecutionManagerOptions;
  readonly #now: () => Date;
  readonly #queue: SlotQueue<Job>;
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
  #draining = false;

  constructor(options: ExecutionManagerOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    const maxRunning = options.maxRunning ?? availableParallelism();
    this.#queue = new SlotQueue(maxRunning);
    // As many reads at once as runs: enough to keep the slots busy, not a fetch per pending one.
    this.#reads = new ReadLimit(maxRunning);
    this.#clean = runCleaner(options.backend, options.logger);
    this.#streams = new StreamRegistry(options);
    this.#held = new HeldExecutions({
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
      slot: (job) => queueSlot(job, this.#queue, () => this.#dispatch()),
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
    if (!job) return this.#terminateUnmanaged(executionId, reason);
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

  async approve(executionId: string, username: string): Promise<Execution | undefined> {
    const { store, logger } = this.#options;
    const held = this.#held.peek(executionId);
    if (!held) {
      const row = await store.executions.get(executionId);
      if (!row) throw new NotFoundError('execution', executionId);
      // Blocked but not held: recover() has not run yet; it queues it as pending when it does.
      if (row.status !== 'blocked' || !(await store.executions.setApproved(executionId, username))) {
        return undefined;
      }
      return store.executions.get(executionId);
    }
    const project = await store.projects.get(held.execution.project_id);
    if (!project) throw new NotFoundError('project', held.execution.project_id);
    // Declined (or approved) while the project was read: whoever took it out first decides.
    if (!this.#held.take(executionId)) return undefined;
    const at = this.#stamp();
    if (!(await store.executions.setApproved(executionId, username, at))) return undefined;
    const execution: Execution = {
      ...held.execution,
      status: 'pending',
      approved_by: username,
      approved_at: at,
    };
    logger.info({ execution: executionId, approvedBy: username }, 'execution approved');
    this.#admit(execution, storedRequest(execution, project));
    return execution;
  }

  stepGate(executionId: string, step: string): OpenGate | undefined {
    return this.#gates.get(executionId, step);
  }

  async decideStep(executionId: string, step: string, decision: StepDecision): Promise<boolean> {
    const letEngineKnow = this.#gates.take(executionId, step);
    if (!letEngineKnow) return false;
    const { store, logger } = this.#options;
    const recorded = {
      decision: decision.approved ? 'approved' : 'declined',
      by: decision.by,
      at: this.#stamp(),
    } as const;
    try {
      await store.steps.decideGate(executionId, step, recorded);
    } catch (error) {
      // The step still goes on as decided; only the record of who decided is missing.
      logger.error({ err: error, execution: executionId, step }, 'could not record an approval decision');
    }
    logger.info({ execution: executionId, step, ...recorded }, 'approval gate decided');
    letEngineKnow(decision);
    return true;
  }

  async subscribe(
    executionId: string,
    listener: (event: ExecutionEvent) => void,
    afterId?: number,
  ): Promise<() => void> {
    const live = this.#streams.get(executionId);
    if (live) return live.subscribe(listener, afterId);
    const { store, dataDir, logger } = this.#options;
    const execution = await store.executions.get(executionId);
    if (!execution) throw new NotFoundError('execution', executionId);
    // It may have been queued while the row was read (recover()).
    const late = this.#streams.get(executionId);
    if (late) return late.subscribe(listener, afterId);
    return replayStored(storedEvents(store, dataDir, execution), listener, afterId, (error) =>
      logger.warn({ err: error, execution: executionId }, 'execution replay stopped'),
    );
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

  /**
   * For startup, before anything is started: executions left running become `error` ("engine
   * restarted") with their backend resources removed, pending ones are queued again in their order.
   */
  async recover(): Promise<RecoveryReport> {
    const { store, dataDir, logger } = this.#options;
    const report: RecoveryReport = { failed: [], requeued: [], blocked: [] };
    const adopted: string[] = [];
    // A started execution `blocked` waits at a step's approval gate: its run died with the
    // process like a running one's, so it ends the same way (its gated steps never ran: skipped).
    const started = (await store.executions.listByStatus(['running', 'blocked'])).filter(
      (row) => row.status === 'running' || row.started_at !== null,
    );
    for (const row of started) {
      if (this.#jobs.has(row.id)) continue;
      if (row.external === 1) {
        // Its reporter runs elsewhere and may still be reporting: follow it again.
        await this.external.adopt(row);
        adopted.push(row.id);
        continue;
      }
      this.#emitStatus(await failAbandoned(store, row, this.#stamp(), this.#clean));
      report.failed.push(row.id);
    }
    for (const row of await store.executions.listByStatus(['pending'])) {
      if (this.#jobs.has(row.id)) continue;
      const project = await store.projects.get(row.project_id);
      if (!project) {
        await store.executions.setEnded(row.id, 'error', 'the project no longer exists', this.#stamp());
        continue;
      }
      // What it waited for in its concurrency group ended with the old process; it asks anew.
      if (row.reason !== null) await store.executions.setPendingReason(row.id, null);
      this.#admit({ ...row, reason: null }, storedRequest(row, project));
      report.requeued.push(row.id);
    }
    // Still waiting for someone: held again, as they were, with a live stream for their pages.
    for (const row of await store.executions.listByStatus(['blocked'])) {
      if (this.#held.has(row.id) || row.started_at !== null) continue;
      this.#held.hold(row);
      report.blocked.push(row.id);
    }
    // The requeued ones are already fetching into theirs.
    await removeStaleWorkspaces(join(dataDir, WORKSPACES_DIR), (id) => this.#jobs.has(id), logger);
    // Those whose reporter went silent while no server was listening end now.
    const silent = await this.external.sweep();
    if (report.failed.length + report.requeued.length + report.blocked.length + adopted.length > 0) {
      logger.info({ ...report, adopted, silent }, 'recovered executions left by the previous process');
    }
    return report;
  }

  /**
   * For SIGTERM: takes no new executions (start() throws ShuttingDownError), waits up to
   * `graceMs` for the running ones, then terminates the rest. Waiting ones stay pending for the
   * next start. Resolves when nothing runs.
   */
  async drain(graceMs: number): Promise<void> {
    this.#draining = true;
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

  /** Deletes finished executions created before `olderThan`, rows and folders. Returns how many. */
  sweepRetention(olderThan: Date): Promise<number> {
    const { store, dataDir, logger } = this.#options;
    return removeOldExecutions(store, dataDir, olderThan, logger);
  }

  /**
   * Removes the caches no key reaches any more and, per project, the least recently used past
   * the budget (cache-sweep.ts). Returns how many went; 0 when the backend keeps no caches.
   */
  sweepCaches(): Promise<number> {
    const { store, backend, logger, cacheBudgetBytes } = this.#options;
    if (backend.caches === undefined) return Promise.resolve(0);
    const budgetBytes = cacheBudgetBytes ?? DEFAULT_CACHE_BUDGET_BYTES;
    return sweepCaches({ store, caches: backend.caches, budgetBytes, logger, now: this.#now() });
  }

  /**
   * Sweeps executions older than `retentionMs` (null: keeps them all) and the caches now and
   * every `intervalMs` (the timer does not keep the process alive). Returns the stop function.
   */
  startRetentionTimer(retentionMs: number | null, intervalMs: number): () => void {
    const sweep = async () => {
      const executions =
        retentionMs === null ? 0 : await this.sweepRetention(new Date(this.#now().getTime() - retentionMs));
      return executions + (await this.sweepCaches());
    };
    return everyInterval(sweep, intervalMs, this.#options.logger, 'old executions and caches');
  }

  /**
   * Removes what ended executions still hold on the backend: their cleanup could not reach it
   * (the Docker daemon was restarting), and nothing else would try again. Executions this
   * manager runs, and runs the store does not know (a `gbcms run` on the same engine), stay.
   * Returns how many executions' leftovers went.
   */
  async sweepLeftovers(): Promise<number> {
    const { store, backend, logger } = this.#options;
    const sweep = await sweepLeftovers(backend, async (id) => {
      if (this.#jobs.has(id)) return false;
      const row = await store.executions.get(id);
      return row !== undefined && isFinished(row.status);
    });
    for (const { id, reason } of sweep.failed) {
      logger.warn({ execution: id, reason }, 'could not remove what an execution left; trying again later');
    }
    return sweep.removed.length;
  }

  /** Sweeps leftovers now and every `intervalMs`. Returns the stop function. */
  startLeftoverSweep(intervalMs: number): () => void {
    return everyInterval(
      () => this.sweepLeftovers(),
      intervalMs,
      this.#options.logger,
      "executions' leftovers",
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
    job.done = runJob(job, this.#jobContext).finally(() => {
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
      this.#dispatch();
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

  /** An execution active in the store that this manager does not run (left before recover()). */
  async #terminateUnmanaged(id: string, reason: string): Promise<TerminateResult | undefined> {
    const { store } = this.#options;
    const row = await store.executions.get(id);
    if (!row) throw new NotFoundError('execution', id);
    if (isFinished(row.status)) return undefined;
    if (row.external === 1) return this.external.terminate(id, reason);
    const at = this.#stamp();
    if (!(await store.executions.setEnded(id, 'killed', reason, at))) return undefined;
    if (row.status === 'running') await this.#clean(id);
    this.#emitStatus({ ...row, status: 'killed', reason, ended_at: at });
    return { execution_id: id, terminated_at: at };
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

/** A project run without a ref runs the project's default branch, and says so in its row. */
function withDefaultBranch(request: StartExecutionRequest): Trigger {
  const { trigger, source, project } = request;
  if (source.kind !== 'project' || trigger.branch || trigger.tag || trigger.commit) return trigger;
  return { ...trigger, branch: project.default_branch };
}
