// What a new server process does first with what the previous one left (ExecutionManager.recover),
// and what a server does with the executions of a peer that stopped answering (takeOverFrom):
// runs it was running end `error` with their resources removed, external executions are
// followed again, pending ones are queued again in their order, blocked ones are held again,
// and stale checkouts go. With several servers, only executions this process may take are
// touched (its own former ones, unnamed ones, a dead peer's), each moved to it first by one
// conditional update, so two servers never both take one.
import { join } from 'node:path';
import { isFinished, type RunStatus } from '../../engine/status.ts';
import { type Execution, NotFoundError, type Store } from '../store/index.ts';
import { WORKSPACES_DIR } from './execute.ts';
import type { ExternalExecutions } from './external.ts';
import type { ExecutionLogger } from './logger.ts';
import type { Membership, RecoveryReport } from './manager-types.ts';
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
  /**
   * The rows of these statuses this process takes up (already moved to it); by default all.
   * `why` is the reason runs it finds going end with.
   */
  rows?(statuses: readonly RunStatus[]): Promise<Execution[]>;
  /**
   * Follows on a run a runner holds (several servers): true when it does, and the run is not
   * ended. Without it, or false, the run ends `error` as any.
   */
  followRemote?(execution: Execution): Promise<boolean>;
  /** Why an abandoned run ends `error` (default: the engine restarted). */
  reason?: string;
  /** Whether to remove checkouts no run owns (false when another server's may be in use). */
  sweepWorkspaces?: boolean;
}

export async function recoverAfterRestart(ctx: RestartRecoveryContext): Promise<RecoveryReport> {
  const { store, dataDir, logger } = ctx;
  const report: RecoveryReport = { failed: [], requeued: [], blocked: [] };
  const adopted: string[] = [];
  // A started execution `blocked` waits at a step's approval gate: its run died with the
  // process like a running one's, so it ends the same way (its gated steps never ran: skipped).
  const rows = ctx.rows ?? ((statuses) => store.executions.listByStatus(statuses));
  const started = (await rows(['running', 'blocked'])).filter(
    (row) => row.status === 'running' || row.started_at !== null,
  );
  for (const listed of started) {
    if (ctx.isManaged(listed.id)) continue;
    // Terminated since it was listed (a call that came meanwhile): nothing is left to take up.
    const row = await store.executions.get(listed.id);
    if (!row || isFinished(row.status)) continue;
    if (row.external === 1) {
      // Its reporter runs elsewhere and may still be reporting: follow it again.
      await ctx.external.adopt(row);
      adopted.push(row.id);
      continue;
    }
    if (row.runner !== null && row.status === 'running' && (await followsRemote(ctx, row))) {
      adopted.push(row.id);
      continue;
    }
    ctx.emitStatus(await failAbandoned(store, row, ctx.stamp(), ctx.clean, ctx.reason));
    report.failed.push(row.id);
  }
  for (const row of await rows(['pending'])) {
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
  for (const row of await rows(['blocked'])) {
    if (ctx.isHeld(row.id) || row.started_at !== null) continue;
    ctx.hold(row);
    report.blocked.push(row.id);
  }
  // The requeued ones are already fetching into theirs.
  if (ctx.sweepWorkspaces !== false) {
    await removeStaleWorkspaces(join(dataDir, WORKSPACES_DIR), ctx.isManaged, logger);
  }
  // Those whose reporter went silent while no server was listening end now.
  const silent = await ctx.external.sweep();
  if (report.failed.length + report.requeued.length + report.blocked.length + adopted.length > 0) {
    logger.info({ ...report, adopted, silent }, 'recovered executions left by the previous process');
  }
  return report;
}

/** Whether the run a runner holds is followed on here; one that cannot be ends as any abandoned run. */
async function followsRemote(ctx: RestartRecoveryContext, row: Execution): Promise<boolean> {
  try {
    return (await ctx.followRemote?.(row)) === true;
  } catch (error) {
    ctx.logger.error({ err: error, execution: row.id }, 'could not follow the run on its runner');
    return false;
  }
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

/** What the manager's two recoveries share: everything but which rows, and why. */
export type RecoveryBase = Omit<RestartRecoveryContext, 'rows' | 'reason' | 'sweepWorkspaces'>;

/** The manager's recoveries: at its start, and of a peer that stopped answering. */
export function recoveries(base: RecoveryBase, members: Membership | undefined) {
  return {
    /** Before anything is started: what the previous process (and dead peers) left. */
    afterRestart: () =>
      recoverAfterRestart({
        ...base,
        rows: (statuses) => rowsToTake(base.store, members, statuses),
        // A peer's checkouts are in the shared data folder too, in use.
        sweepWorkspaces: members?.hasPeers !== true,
      }),
    /** A server stopped answering: its runs end saying so, or are followed on; the rest comes here. */
    takeOverFrom: (server: string) =>
      recoverAfterRestart({
        ...base,
        rows: (statuses) => rowsToTake(base.store, members, statuses, server),
        reason: `server lost: ${server} stopped answering`,
        sweepWorkspaces: false,
      }),
  };
}

/**
 * The rows of these statuses this process takes up, each moved to it first: at a restart, its
 * own former ones, unnamed ones and dead peers' (`from` undefined); in a sweep, one dead peer's.
 * Without a membership (one server, no name), every row.
 */
export async function rowsToTake(
  store: Store,
  members: Membership | undefined,
  statuses: readonly RunStatus[],
  from?: string,
): Promise<Execution[]> {
  if (!members) return store.executions.listByStatus(statuses);
  const candidates =
    from === undefined
      ? (await store.executions.listByStatus(statuses)).filter(
          (row) => members.isMine(row.server) || members.isGone(row.server),
        )
      : await store.servers.executionsOf(from, statuses);
  const taken: Execution[] = [];
  for (const row of candidates) {
    if (row.server !== members.name && !(await store.servers.takeOver(row.id, row.server, members.name))) {
      continue;
    }
    taken.push({ ...row, server: members.name });
  }
  return taken;
}
