// Settling what a previous server process left behind: executions it was running (or that
// waited at a step's approval gate) cannot be resumed (their steps lost their supervisor), so they end `error` and their resources go,
// removed by the backend from the execution's id alone (Backend.destroyRun), whichever it is.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../../engine/backends/types.ts';
import { abandonedStepStatus, isFinished } from '../../engine/status.ts';
import type { Execution, Store } from '../store/index.ts';
import type { ExecutionLogger } from './logger.ts';

export const ENGINE_RESTARTED = 'engine restarted';
/** A step that waited at its approval gate never ran: nobody can approve it after a restart. */
export const GATE_ABANDONED = 'the server restarted while the step waited for approval; it did not run';

/** Removes what a run left on the backend. Never rejects: a failure is logged. */
export type RunCleaner = (runId: string) => Promise<void>;

export function runCleaner(backend: Backend, logger: ExecutionLogger): RunCleaner {
  return async (runId) => {
    try {
      await backend.destroyRun(runId);
    } catch (error) {
      logger.warn({ err: error, execution: runId }, "could not remove the run's resources");
    }
  };
}

/** The execution, its unfinished steps and its environments end; its resources are removed. */
export async function failAbandoned(
  store: Store,
  execution: Execution,
  at: string,
  clean: RunCleaner,
  /** Why: the engine restarted, or the server that ran it stopped answering. */
  reason = ENGINE_RESTARTED,
): Promise<Execution> {
  await store.executions.setEnded(execution.id, 'error', reason, at);
  for (const step of await store.steps.list(execution.id)) {
    if (isFinished(step.status)) continue;
    const waited = step.status === 'blocked';
    await store.steps.upsert(execution.id, {
      name: step.name,
      // The plan is gone with the process: whether it skipped the step is not known.
      status: waited ? 'skipped' : abandonedStepStatus(),
      exit_code: step.exit_code,
      reason: waited ? GATE_ABANDONED : reason,
      started_at: step.started_at,
      ended_at: null,
      duration_ms: null,
      attempts: step.attempts,
      log: step.log,
    });
  }
  await clean(execution.id);
  for (const environment of await store.environments.listByExecution(execution.id)) {
    if (environment.destroyed_at === null) await store.environments.markDestroyed(environment.id, at);
  }
  return { ...execution, status: 'error', reason, ended_at: at };
}

/** Checkouts in `dir` other than those in `keep`: a crash left them. */
export async function removeStaleWorkspaces(
  dir: string,
  keep: (id: string) => boolean,
  logger: ExecutionLogger,
): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  for (const entry of entries) {
    if (keep(entry)) continue;
    await rm(join(dir, entry), { recursive: true, force: true }).catch((error: unknown) =>
      logger.warn({ err: error, entry }, 'could not remove a stale workspace'),
    );
  }
}
