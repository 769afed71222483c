// What a new server process does first with what the previous one left (ExecutionManager.recover):
// runs it was running end `error` with their resources removed, external executions are
// followed again, pending ones are queued again in their order, blocked ones are held again,
// and stale checkouts go.
import { join } from 'node:path';
import { isFinished } from '../../engine/status.ts';
import { type Execution, NotFoundError, type Store } from '../store/index.ts';
import { WORKSPACES_DIR } from './execute.ts';
import type { ExternalExecutions } from './external.ts';
import type { ExecutionLogger } from './logger.ts';
import type { RecoveryReport } from './manager-types.ts';
import { failAbandoned, type RunCleaner, removeStaleWorkspaces } from './recovery.ts';
import { storedRequest } from './stored-request.ts';
import type { StartExecutionRequest, TerminateResult } from './types.ts';

export interface RestartRecoveryContext {
  store: Store;
  dataDir: string;
  logger: ExecutionLogger;
  external: ExternalExecutions;
  clean: RunCleaner;
  stamp(): string;
  /** Whether this process already runs (or waits to run) the execution. */
  isManaged(id: string): boolean;
  isHeld(id: string): boolean;
  admit(execution: Execution, request: StartExecutionRequest): void;
  hold(execution: Execution): void;
  emitStatus(execution: Execution): void;
}

export async function recoverAfterRestart(ctx: RestartRecoveryContext): Promise<RecoveryReport> {
  const { store, dataDir, logger } = ctx;
  const report: RecoveryReport = { failed: [], requeued: [], blocked: [] };
  const adopted: string[] = [];
  // A started execution `blocked` waits at a step's approval gate: its run died with the
  // process like a running one's, so it ends the same way (its gated steps never ran: skipped).
  const started = (await store.executions.listByStatus(['running', 'blocked'])).filter(
    (row) => row.status === 'running' || row.started_at !== null,
  );
  for (const row of started) {
    if (ctx.isManaged(row.id)) continue;
    if (row.external === 1) {
      // Its reporter runs elsewhere and may still be reporting: follow it again.
      await ctx.external.adopt(row);
      adopted.push(row.id);
      continue;
    }
    ctx.emitStatus(await failAbandoned(store, row, ctx.stamp(), ctx.clean));
    report.failed.push(row.id);
  }
  for (const row of await store.executions.listByStatus(['pending'])) {
    if (ctx.isManaged(row.id)) continue;
    const project = await store.projects.get(row.project_id);
    if (!project) {
      await store.executions.setEnded(row.id, 'error', 'the project no longer exists', ctx.stamp());
      continue;
    }
    // What it waited for in its concurrency group ended with the old process; it asks anew.
    if (row.reason !== null) await store.executions.setPendingReason(row.id, null);
    ctx.admit({ ...row, reason: null }, storedRequest(row, project));
    report.requeued.push(row.id);
  }
  // Still waiting for someone: held again, as they were, with a live stream for their pages.
  for (const row of await store.executions.listByStatus(['blocked'])) {
    if (ctx.isHeld(row.id) || row.started_at !== null) continue;
    ctx.hold(row);
    report.blocked.push(row.id);
  }
  // The requeued ones are already fetching into theirs.
  await removeStaleWorkspaces(join(dataDir, WORKSPACES_DIR), ctx.isManaged, logger);
  // Those whose reporter went silent while no server was listening end now.
  const silent = await ctx.external.sweep();
  if (report.failed.length + report.requeued.length + report.blocked.length + adopted.length > 0) {
    logger.info({ ...report, adopted, silent }, 'recovered executions left by the previous process');
  }
  return report;
}

/**
 * Terminates an execution active in the store that this process does not run: left by the
 * previous process before recover() took it. Undefined when it had ended already.
 */
export async function terminateLeftBehind(
  ctx: Pick<RestartRecoveryContext, 'store' | 'external' | 'clean' | 'stamp' | 'emitStatus'>,
  id: string,
  reason: string,
): Promise<TerminateResult | undefined> {
  const row = await ctx.store.executions.get(id);
  if (!row) throw new NotFoundError('execution', id);
  if (isFinished(row.status)) return undefined;
  if (row.external === 1) return ctx.external.terminate(id, reason);
  const at = ctx.stamp();
  if (!(await ctx.store.executions.setEnded(id, 'killed', reason, at))) return undefined;
  if (row.status === 'running') await ctx.clean(id);
  ctx.emitStatus({ ...row, status: 'killed', reason, ended_at: at });
  return { execution_id: id, terminated_at: at };
}
