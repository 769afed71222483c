// External executions: code gbcms did not start (a notebook, a cluster job) that reports to the
// server. One is created running, takes reports and heartbeats from its reporter, and ends when
// the reporter says so (success or failure), when a user terminates it, or when the reporter
// has been silent (no heartbeat, no reports) for longer than its heartbeat timeout: then it
// ends `error`, "reporter stopped responding". A sweeper looks for silent ones every few
// seconds. They survive a server restart: recover() takes running ones up again (adopt()),
// and they time out from their last stored sign of life.
//
// Its reports go through the engine's limiter (the one a step's reports go through) and a
// ReportSink, under the one step name EXTERNAL_STEP.

import { ReportLimiter, type ReportLimits } from '../../engine/reports/index.ts';
import { isFinished, type RunStatus } from '../../engine/status.ts';
import { type Execution, NotFoundError, type Store } from '../store/index.ts';
import { endExecution } from './ending.ts';
import { ExecutionEndedError, InvalidRequestError, NotExternalError, ShuttingDownError } from './errors.ts';
import type { EventStream } from './event-stream.ts';
import type { ExecutionLogger } from './logger.ts';
import { MAX_REFUSALS_LISTED, parseReportItems } from './report-items.ts';
import { ReportSink } from './report-sink.ts';
import {
  EXTERNAL_STEP,
  type ExternalControl,
  type ExternalVerdict,
  type ReportIntake,
  type StartExternalRequest,
  type TerminateResult,
} from './types.ts';

export const DEFAULT_HEARTBEAT_TIMEOUT_S = 300;
export const MIN_HEARTBEAT_TIMEOUT_S = 10;
export const MAX_HEARTBEAT_TIMEOUT_S = 86_400;
export const REPORTER_SILENT = 'reporter stopped responding';
export const DEFAULT_SWEEP_INTERVAL_MS = 5000;
/** Reports waiting to be stored past which a reporter's request waits for the store. */
const HIGH_WATER = 50_000;
/** A sign of life is written to the store at most this often (heartbeats always are). */
const BEAT_PERSIST_MS = 1000;

export interface ExternalExecutionsOptions {
  store: Store;
  logger: ExecutionLogger;
  now: () => Date;
  minHeartbeatTimeoutS?: number;
  sweepIntervalMs?: number;
  reportFlushMs?: number;
  limits?: Partial<ReportLimits>;
  /** A new event stream for the execution, where subscribers find it. */
  openStream(execution: Execution): EventStream;
  /** The execution ended and its `end` is published: the stream may go after a while. */
  retireStream(executionId: string): void;
  emitStatus(execution: Execution): void;
  /** Whether new executions are refused (the server is shutting down). */
  draining(): boolean;
}

interface Job {
  execution: Execution;
  stream: EventStream;
  sink: ReportSink;
  limiter: ReportLimiter;
  /** Last sign of life, ms since the epoch. */
  lastBeat: number;
  /** Last sign of life written to the store. */
  storedBeat: number;
  /** Set once it is ending: later reports and heartbeats are refused. */
  ending?: Promise<Execution>;
  endListeners: Set<(execution: Execution) => void>;
}

export class ExternalExecutions implements ExternalControl {
  readonly minHeartbeatTimeoutS: number;
  readonly #options: ExternalExecutionsOptions;
  readonly #jobs = new Map<string, Job>();
  /** Executions being taken up (adopt), so two requests do not take one up twice. */
  readonly #adopting = new Map<string, Promise<Job>>();
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping: Promise<string[]> | undefined;

  constructor(options: ExternalExecutionsOptions) {
    this.#options = options;
    this.minHeartbeatTimeoutS = options.minHeartbeatTimeoutS ?? MIN_HEARTBEAT_TIMEOUT_S;
  }

  /** Running external executions this process follows. */
  get running(): number {
    return this.#jobs.size;
  }

  async start(request: StartExternalRequest): Promise<Execution> {
    const { store, logger } = this.#options;
    if (this.#options.draining()) throw new ShuttingDownError();
    const timeout = request.heartbeatTimeoutS ?? DEFAULT_HEARTBEAT_TIMEOUT_S;
    if (
      !Number.isInteger(timeout) ||
      timeout < this.minHeartbeatTimeoutS ||
      timeout > MAX_HEARTBEAT_TIMEOUT_S
    ) {
      throw new InvalidRequestError(
        `heartbeat_timeout must be a whole number of seconds from ${this.minHeartbeatTimeoutS} to ${MAX_HEARTBEAT_TIMEOUT_S}`,
      );
    }
    const session =
      request.session === undefined
        ? undefined
        : await store.sessions.ensure(request.project.id, request.session);
    const execution = await store.executions.create({
      project_id: request.project.id,
      trigger: { event: 'api' },
      external: { session_id: session?.id ?? null, name: request.name ?? null, heartbeat_timeout_s: timeout },
    });
    this.#take(execution, 0);
    logger.info(
      {
        execution: execution.id,
        project: request.project.id,
        session: session?.id,
        requestedBy: request.requestedBy,
      },
      'external execution started',
    );
    return execution;
  }

  async report(executionId: string, items: readonly unknown[]): Promise<ReportIntake> {
    const job = await this.#job(executionId);
    const { reports, refused } = parseReportItems(items, this.#stamp());
    const intake: ReportIntake = { accepted: 0, refused: 0, errors: [], notices: [] };
    for (const { report } of reports) {
      // Valid, so accepted, even when the limits leave it out (downsampled, or past a cap).
      intake.accepted += 1;
      const admission = job.limiter.admit(report);
      if (admission.kind === 'keep') job.sink.add(EXTERNAL_STEP, report);
      if (admission.kind !== 'drop' && admission.notice !== undefined) {
        intake.notices.push(admission.notice);
        job.stream.publish({ type: 'notice', step: EXTERNAL_STEP, message: `notice: ${admission.notice}` });
      }
    }
    intake.refused = refused.length;
    intake.errors = refused.slice(0, MAX_REFUSALS_LISTED);
    await this.#beat(job, false);
    // A reporter faster than the store waits here rather than filling the server's memory.
    await job.sink.below(HIGH_WATER);
    return intake;
  }

  async heartbeat(executionId: string): Promise<Execution> {
    const job = await this.#job(executionId);
    await this.#beat(job, true);
    return job.execution;
  }

  async finish(executionId: string, status: ExternalVerdict, message?: string): Promise<Execution> {
    const job = await this.#job(executionId);
    return this.#end(job, status, message ?? null);
  }

  onEnd(executionId: string, onEnd: (execution: Execution) => void): () => void {
    const job = this.#jobs.get(executionId);
    if (job && !job.ending) {
      job.endListeners.add(onEnd);
      return () => job.endListeners.delete(onEnd);
    }
    let listening = true;
    const settled = job?.ending ?? this.#options.store.executions.get(executionId);
    void settled.then(
      (execution) => {
        if (listening && execution && isFinished(execution.status)) onEnd(execution);
      },
      () => undefined,
    );
    return () => {
      listening = false;
    };
  }

  /**
   * Ends a running external execution `killed` (a user's terminate). Undefined when it had
   * already ended; throws NotExternalError for a pipeline run.
   */
  async terminate(executionId: string, reason: string): Promise<TerminateResult | undefined> {
    let job: Job;
    try {
      job = await this.#job(executionId);
    } catch (error) {
      if (error instanceof NotExternalError) throw error;
      const ended = this.#jobs.get(executionId)?.ending;
      if (ended) await ended;
      return undefined;
    }
    const execution = await this.#end(job, 'killed', reason);
    if (execution.status !== 'killed') return undefined;
    return { execution_id: execution.id, terminated_at: execution.ended_at ?? this.#stamp() };
  }

  /** For recover(): follows a running external execution a previous process followed. */
  async adopt(execution: Execution): Promise<void> {
    await this.#adopt(execution);
  }

  /** Ends the executions whose reporter has been silent too long. Returns their ids. */
  sweep(): Promise<string[]> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  /** Sweeps every `sweepIntervalMs` until stop(); the timer does not keep the process alive. */
  startSweeper(): void {
    if (this.#sweeper) return;
    const interval = this.#options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    this.#sweeper = setInterval(() => {
      this.sweep().catch((error: unknown) =>
        this.#options.logger.error({ err: error }, 'heartbeat sweep failed'),
      );
    }, interval);
    this.#sweeper.unref();
  }

  /** For shutdown: no more sweeps; buffered reports and signs of life are stored. They stay running. */
  async stop(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    await this.#sweeping;
    await Promise.all(
      [...this.#jobs.values()].map(async (job) => {
        await job.sink.flush();
        await this.#storeBeat(job).catch(() => undefined);
      }),
    );
  }

  async #sweep(): Promise<string[]> {
    const now = this.#options.now().getTime();
    const silent = [...this.#jobs.values()].filter(
      (job) =>
        !job.ending &&
        now - job.lastBeat > (job.execution.heartbeat_timeout_s ?? DEFAULT_HEARTBEAT_TIMEOUT_S) * 1000,
    );
    await Promise.all(silent.map((job) => this.#end(job, 'error', REPORTER_SILENT)));
    if (silent.length > 0) {
      this.#options.logger.warn({ executions: silent.map((job) => job.execution.id) }, REPORTER_SILENT);
    }
    return silent.map((job) => job.execution.id);
  }

  /**
   * The live job of a running external execution. Throws NotFoundError, NotExternalError or
   * ExecutionEndedError otherwise.
   */
  async #job(executionId: string): Promise<Job> {
    const live = this.#jobs.get(executionId);
    if (live) {
      if (live.ending) throw new ExecutionEndedError();
      return live;
    }
    const row = await this.#options.store.executions.get(executionId);
    if (!row) throw new NotFoundError('execution', executionId);
    if (row.external !== 1) throw new NotExternalError();
    if (isFinished(row.status)) throw new ExecutionEndedError();
    // Running, but not followed here: started before this process, and recover() was not run.
    const job = await this.#adopt(row);
    if (job.ending) throw new ExecutionEndedError();
    return job;
  }

  #adopt(execution: Execution): Promise<Job> {
    const live = this.#jobs.get(execution.id);
    if (live) return Promise.resolve(live);
    let adopting = this.#adopting.get(execution.id);
    if (!adopting) {
      adopting = this.#options.store.reports
        .lastSeq(execution.id)
        .then((stored) => {
          const job = this.#jobs.get(execution.id) ?? this.#take(execution, stored);
          const last = Date.parse(
            execution.last_heartbeat_at ?? execution.started_at ?? execution.created_at,
          );
          if (Number.isFinite(last)) job.lastBeat = job.storedBeat = last;
          return job;
        })
        .finally(() => this.#adopting.delete(execution.id));
      this.#adopting.set(execution.id, adopting);
    }
    return adopting;
  }

  /** Follows the execution: a stream (resuming its `storedReports` stored ones) and a sink. */
  #take(execution: Execution, storedReports: number): Job {
    const { store, logger } = this.#options;
    const stream = this.#options.openStream(execution);
    if (storedReports > 0) stream.resumeStored({ type: 'status', execution }, storedReports);
    else stream.publish({ type: 'status', execution });
    const now = this.#options.now().getTime();
    const job: Job = {
      execution,
      stream,
      sink: new ReportSink({
        store,
        executionId: execution.id,
        publish: (body) => stream.publish(body),
        flushMs: this.#options.reportFlushMs,
        onError: (error) =>
          logger.error({ err: error, execution: execution.id }, "could not store the execution's reports"),
      }),
      limiter: new ReportLimiter(this.#options.limits),
      lastBeat: now,
      storedBeat: now,
      endListeners: new Set(),
    };
    this.#jobs.set(execution.id, job);
    this.#options.emitStatus(execution);
    return job;
  }

  async #beat(job: Job, store: boolean): Promise<void> {
    job.lastBeat = this.#options.now().getTime();
    if (store || job.lastBeat - job.storedBeat >= BEAT_PERSIST_MS) await this.#storeBeat(job);
  }

  async #storeBeat(job: Job): Promise<void> {
    const at = new Date(job.lastBeat).toISOString();
    job.storedBeat = job.lastBeat;
    await this.#options.store.executions.setHeartbeat(job.execution.id, at);
    job.execution = { ...job.execution, last_heartbeat_at: at };
  }

  /** Stores its last reports, records the end, publishes `end`. Once per job. */
  #end(job: Job, status: RunStatus, reason: string | null): Promise<Execution> {
    job.ending ??= (async () => {
      const { logger } = this.#options;
      const id = job.execution.id;
      for (const report of job.limiter.takeDroppedLast()) job.sink.add(EXTERNAL_STEP, report);
      await job.sink.close();
      const execution = await endExecution(this.#options, {
        execution: job.execution,
        stream: job.stream,
        status,
        reason,
        at: this.#stamp(),
        noun: 'external execution',
        before: () => this.#storeBeat(job),
        recorded: (ended) => {
          job.execution = ended;
          this.#jobs.delete(id);
        },
      });
      for (const listener of job.endListeners) {
        try {
          listener(execution);
        } catch (error) {
          logger.warn({ err: error, execution: id }, 'an end listener failed');
        }
      }
      return execution;
    })();
    return job.ending;
  }

  #stamp(): string {
    return this.#options.now().toISOString();
  }
}
