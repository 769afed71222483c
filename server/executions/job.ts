// One execution the manager runs itself: what it holds while it waits and runs, how it runs
// from its admission (execute.ts reads its file, takes its group's turn, then its slot, with a
// RunRecorder as the run's observer), and how its end is recorded and told to subscribers and
// observers.
import { join } from 'node:path';
import type { FileSchedule, Plan } from '../../engine/plan.ts';
import { isFinished } from '../../engine/status.ts';
import type { FileSchedules } from '../schedules/file-schedules.ts';
import type { Execution } from '../store/index.ts';
import { endExecution } from './ending.ts';
import type { EventStream } from './event-stream.ts';
import { execute, type Outcome } from './execute.ts';
import type { ExecutionTurns, GroupTurns, JobSlot } from './group-turns.ts';
import type { ExecutionManagerOptions, StepEnded } from './manager-types.ts';
import { RunRecorder } from './recorder.ts';
import type { SlotRequest } from './slots.ts';
import type { StepGates } from './step-gates.ts';
import type { StartExecutionRequest } from './types.ts';

export const TERMINATED_BY_USER = 'terminated by user';

export interface Job extends SlotRequest {
  execution: Execution;
  request: StartExecutionRequest;
  stream: EventStream;
  controller: AbortController;
  /** Why it is being stopped, once terminate() or drain() asked. */
  stopReason?: string;
  /** Stopped by drain() before it held a slot: it never ran, and stays pending for recover(). */
  leftPending?: boolean;
  /** Settles once the execution has ended and its `end` event is out. */
  done?: Promise<void>;
  recorder?: RunRecorder;
  /** Set once its file is read and its group's turn come, while it queues for a slot: called when it has one. */
  resume?: () => void;
}

export interface JobContext {
  options: ExecutionManagerOptions;
  /** Now, as stored. */
  stamp(): string;
  emitStatus(execution: Execution): void;
  /** Where the execution's steps wait for approval. */
  gates: StepGates;
  emitStepEnded(ended: StepEnded): void;
  /** The execution's `end` is published: its stream may go after a while. */
  retireStream(executionId: string): void;
  /** Concurrency groups of every project's executions and steps. */
  turns: GroupTurns;
  /** The job's place in the slot line: left while it waits for its group, then taken. */
  slot(job: Job): JobSlot;
  /** Leave to fetch the source and read the file, a few executions at a time (read-limit.ts). */
  read(signal: AbortSignal): Promise<(() => void) | undefined>;
  /** Ends a running or waiting execution, as the manager's terminate(). */
  terminate(executionId: string, reason: string): void;
  /** The project's schedules from its default branch's pipeline file. */
  fileSchedules: FileSchedules;
}

/** Runs the job from its admission through to its recorded end. */
export async function runJob(job: Job, ctx: JobContext): Promise<void> {
  const { store, backend, dataDir, logger, graceMs } = ctx.options;
  const slot = ctx.slot(job);
  let outcome: Outcome;
  try {
    outcome = await execute({
      execution: job.execution,
      request: job.request,
      signal: job.controller.signal,
      store,
      backend,
      dataDir,
      graceMs,
      logger,
      secrets: ctx.options.secrets,
      runners: ctx.options.runners,
      approvals: ctx.gates.askerFor(job.id),
      turns: jobTurns(job, ctx, slot),
      read: (signal) => ctx.read(signal),
      slot,
      fileSchedules: (schedules) => syncFileSchedules(job, ctx, schedules),
      publish: (body) => job.stream.publish(body),
      onChanged: (execution) => {
        job.execution = execution;
        job.stream.publish({ type: 'status', execution });
      },
      recorder: (plan) => recorderFor(job, ctx, plan),
      stream: job.stream,
    });
  } catch (error) {
    logger.error({ err: error, execution: job.id }, 'execution failed');
    outcome = { status: 'error', reason: 'internal error; the server log has the details' };
  }
  if (job.leftPending && outcome.status === 'killed') return;
  // It ended by itself before drain()'s stop reached it (an invalid file): recorded as such.
  job.leftPending = false;
  await job.recorder?.finish();
  if (outcome.status === 'killed') outcome = { status: 'killed', reason: job.stopReason ?? outcome.reason };
  await endJob(job, outcome, ctx);
}

/** The run's observer: stored rows, stream events, status and step-end observers. */
export function recorderFor(job: Job, ctx: JobContext, plan: Plan): RunRecorder {
  const { store, backend, dataDir, logger, reportFlushMs } = ctx.options;
  job.recorder = new RunRecorder({
    store,
    execution: job.execution,
    plan,
    runDir: join(dataDir, job.execution.logs_dir),
    // The fake backend (tests) stands in for a local one.
    environmentType: backend.name === 'docker' ? 'docker' : 'local',
    logger,
    publish: (body) => job.stream.publish(body),
    reportFlushMs,
    onStatus: (execution) => {
      job.execution = execution;
      ctx.emitStatus(execution);
    },
    onStepEnded: (step) => ctx.emitStepEnded({ execution: job.execution, step }),
  });
  return job.recorder;
}

function jobTurns(job: Job, ctx: JobContext, slot: JobSlot): ExecutionTurns {
  const { store } = ctx.options;
  return ctx.turns.forExecution({
    execution: job.execution,
    signal: job.controller.signal,
    slot,
    waiting: async (reason) => {
      if (!(await store.executions.setPendingReason(job.id, reason))) return;
      job.execution = { ...job.execution, reason };
      job.stream.publish({ type: 'status', execution: job.execution });
    },
    recordGroup: async (group) => {
      await store.executions.setConcurrencyGroup(job.id, group);
      job.execution = { ...job.execution, concurrency_group: group };
      job.stream.publish({ type: 'status', execution: job.execution });
    },
    terminate: (reason) => ctx.terminate(job.id, reason),
  });
}

/** A failed sync is the server's problem, not the push's: the execution runs on. */
async function syncFileSchedules(
  job: Job,
  ctx: JobContext,
  schedules: readonly FileSchedule[],
): Promise<void> {
  try {
    const { refused } = await ctx.fileSchedules.sync(job.request.project, schedules);
    for (const { name, reason } of refused) {
      job.stream.publish({
        type: 'notice',
        message: `schedule ${name} of the pipeline file is not used: ${reason}`,
      });
    }
  } catch (error) {
    ctx.options.logger.error(
      { err: error, execution: job.id },
      "could not update the pipeline file's schedules",
    );
  }
}

/** Records the end, tells subscribers and observers, and keeps the stream a little longer. */
export async function endJob(job: Job, outcome: Outcome, ctx: JobContext): Promise<void> {
  const status = isFinished(outcome.status) ? outcome.status : 'error';
  await endExecution(
    {
      store: ctx.options.store,
      logger: ctx.options.logger,
      emitStatus: (execution) => ctx.emitStatus(execution),
      retireStream: (id) => ctx.retireStream(id),
    },
    {
      execution: job.execution,
      stream: job.stream,
      status,
      reason: outcome.reason ?? (status === 'killed' ? TERMINATED_BY_USER : null),
      at: ctx.stamp(),
      noun: 'execution',
      recorded: (execution) => {
        job.execution = execution;
      },
    },
  );
}
