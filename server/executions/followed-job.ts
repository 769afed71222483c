// An execution a runner holds whose server died (several servers sharing one database and data
// folder): this server follows it on from where that one left it (runners/runner-state.ts)
// rather than ending it. Its recorder picks up the steps as they stood, its live stream goes on
// after that server's last event id, and its end is recorded as any run's.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FollowedJob, RunnerState } from '../runners/runner-state.ts';
import type { Outcome } from './execute.ts';
import { WORKSPACES_DIR } from './execute.ts';
import { endJob, type Job, type JobContext, recorderFor } from './job.ts';

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
        lastEventId: () => job.stream.lastId,
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
