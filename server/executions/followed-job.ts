// An execution a runner holds whose server died (several servers sharing one database and data
// folder): this server follows it on from where that one left it (runners/runner-state.ts)
// rather than ending it. Its recorder picks up the steps as they stood, its live stream goes on
// after that server's last event id, and its end is recorded as any run's.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type FollowedJob, type RunnerState, readRunnerState } from '../runners/runner-state.ts';
import type { Execution } from '../store/index.ts';
import type { EventStream } from './event-stream.ts';
import { type Outcome, WORKSPACES_DIR } from './execute.ts';
import { endJob, type Job, type JobContext, recorderFor } from './job.ts';
import { storedRequest } from './stored-request.ts';

export interface FollowContext {
  jobContext: JobContext;
  draining(): boolean;
  /** The execution's live stream: the one it has, or a new one. */
  stream(executionId: string): EventStream;
  /** The job runs here from now on, holding a slot: `done` settles when it has ended. */
  enlist(job: Job, run: () => Promise<void>): void;
}

/**
 * A run a runner holds, left by a server that died: followed on here when that server kept where
 * it stood (runner-state.ts). False when it cannot be, and the run ends as any abandoned one.
 */
export async function followRemote(ctx: FollowContext, execution: Execution): Promise<boolean> {
  const { store, dataDir, runners } = ctx.jobContext.options;
  if (!runners?.resume || ctx.draining()) return false;
  const saved = await readRunnerState(join(dataDir, execution.logs_dir));
  const project = saved && (await store.projects.get(execution.project_id));
  if (!saved || !project) return false;
  const stream = ctx.stream(execution.id);
  if (stream.lastId === 0) stream.continueAfter(saved.state.streamId, saved.state.streamTail ?? []);
  const job: Job = {
    id: execution.id,
    projectId: execution.project_id,
    projectLimit: project.max_concurrent,
    execution,
    request: storedRequest(execution, project),
    controller: new AbortController(),
    stream,
  };
  ctx.enlist(job, () => followRemoteJob(job, ctx.jobContext, saved));
  stream.publish({ type: 'status', execution });
  return true;
}

export async function followRemoteJob(
  job: Job,
  ctx: JobContext,
  saved: { job: FollowedJob; state: RunnerState },
): Promise<void> {
  const { runners, dataDir, logger } = ctx.options;
  const { execution } = job;
  const workspace = join(dataDir, WORKSPACES_DIR, execution.id);
  const recorder = recorderFor(job, ctx, saved.job.plan);
  recorder.resumeStarted(saved.state.steps);
  let outcome: Outcome;
  try {
    if (!runners?.resume) throw new Error('this server has no runners to follow the execution on');
    outcome = await runners.resume(
      {
        execution,
        projectName: saved.job.projectName,
        plan: saved.job.plan,
        workspace,
        runDir: join(dataDir, execution.logs_dir),
        // The runner has them already: nothing is decrypted again.
        secrets: {},
        secretRefusals: {},
        cacheScope: '',
        env: {},
        signal: job.controller.signal,
        observe: recorder.observe,
        onWaiting: () => undefined,
        approvals: ctx.gates.askerFor(execution.id),
        stream: job.stream,
      },
      saved.state,
    );
  } catch (error) {
    logger.error({ err: error, execution: execution.id }, 'following the execution on failed');
    outcome = { status: 'error', reason: 'internal error; the server log has the details' };
  }
  await recorder.finish();
  if (outcome.status === 'killed') outcome = { status: 'killed', reason: job.stopReason ?? outcome.reason };
  await endJob(job, outcome, ctx);
  await rm(workspace, { recursive: true, force: true }).catch((error: unknown) => {
    logger.warn({ err: error, execution: execution.id }, 'could not remove the workspace');
  });
}
