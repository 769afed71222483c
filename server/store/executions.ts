// Executions: one row per run of a project's pipeline, numbered 1, 2, 3... per project.
// Status moves pending -> running -> finished, or pending -> finished (terminated before it
// started); one that waits for approval starts blocked -> pending (approved) or blocked ->
// finished (declined). A running one whose steps all wait at approval gates goes running ->
// blocked -> running (setWaiting); it has started, which tells it from one held as a whole. The guarded setters below refuse to move a finished execution again,
// so a late "success" from the engine cannot overwrite a user's "killed".

import type { SelectQueryBuilder } from 'kysely';
import type { Trigger } from '../../engine/plan.ts';
import { newRunId } from '../../engine/run-id.ts';
import type { RunStatus } from '../../engine/status.ts';
import { FINISHED_STATUSES, RUN_STATUSES } from '../../engine/status.ts';
import type { RepoContext } from './context.ts';
import { decodeCursor, decodeRecentCursor, encodeCursor, encodeRecentCursor } from './cursor.ts';
import { NotFoundError } from './errors.ts';
import { triggerColumns } from './execution-trigger.ts';
import { reusedQuery } from './reused-query.ts';
import type { Database, Execution } from './schema.ts';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

const ACTIVE: readonly RunStatus[] = ['blocked', 'pending', 'running'];
const FINISHED: readonly RunStatus[] = RUN_STATUSES.filter((s) => FINISHED_STATUSES.has(s));

export interface NewExecution {
  project_id: string;
  trigger: Trigger;
  /** Commit message, or a note given with a manual start. */
  message?: string | null;
  rerun_of?: string | null;
  /** A re-run of `rerun_of` from its failed steps. */
  rerun_from_failed?: boolean;
  /** Relative to the data directory; default `executions/<id>`. */
  logs_dir?: string;
  /** Code gbcms does not start reports to it: the execution is created running, with no steps. */
  external?: NewExternal;
  /** Created `blocked`: it waits for someone to approve it (setApproved) before it is queued. */
  blocked?: boolean;
  /** Where its source is fetched from when not the project's repository (a fork's clone URL). */
  source_repo?: string | null;
  /** The server that manages it (gbcms serve --server-name), when it has a name. */
  server?: string | null;
}

export interface NewExternal {
  session_id: string | null;
  name: string | null;
  heartbeat_timeout_s: number;
}

export interface ListExecutionsOptions {
  status?: RunStatus;
  /** Only executions on this branch (not tags). */
  branch?: string;
  /** Default 20, at most 100. */
  limit?: number;
  /** `next_cursor` of the previous page. Throws InvalidCursorError when it is not one. */
  cursor?: string;
}

/** What the fetched commit tells about an execution, once its source is checked out. */
export type CommitColumns = Pick<Execution, 'commit_sha' | 'author' | 'message'>;

export interface StatusCount {
  status: RunStatus;
  count: number;
}

export interface ExecutionPage {
  /** Newest first. */
  items: Execution[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

export interface ExecutionRepo {
  /**
   * A pending execution (a running one when external) with the project's next number. Throws
   * NotFoundError for an unknown project.
   */
  create(input: NewExecution): Promise<Execution>;
  get(id: string): Promise<Execution | undefined>;
  listByProject(projectId: string, options?: ListExecutionsOptions): Promise<ExecutionPage>;
  /**
   * The executions of these projects together, newest first, a page at a time (the home page).
   * Its cursors are its own: one from listByProject is refused.
   */
  listRecent(projectIds: readonly string[], options?: ListExecutionsOptions): Promise<ExecutionPage>;
  /** Every execution in one of these statuses, oldest first (what to resume or fail after a restart). */
  listByStatus(statuses: readonly RunStatus[]): Promise<Execution[]>;
  /** Fills in the commit the execution's source turned out to be. */
  setCommit(id: string, commit: CommitColumns): Promise<void>;
  /**
   * Stamps an external execution's last sign of life; only while it runs, so a late beat never
   * touches an ended row. False when it did not change.
   */
  setHeartbeat(id: string, at: string): Promise<boolean>;
  /**
   * blocked -> pending, recording who approved it and when (default now). False when it was
   * not blocked (already approved, declined or never blocked).
   */
  setApproved(id: string, by: string, at?: string): Promise<boolean>;
  /**
   * running -> blocked when `waiting` (every step that is not finished waits at an approval
   * gate), blocked -> running when not; only for a started execution. False when it did not change.
   */
  setWaiting(id: string, waiting: boolean): Promise<boolean>;
  /**
   * pending -> running, stamping started_at (default now) and clearing the reason it waited
   * for. False when it was not pending.
   */
  setStarted(id: string, at?: string): Promise<boolean>;
  /** Records the concurrency group the execution's pipeline file put it in. */
  setConcurrencyGroup(id: string, group: string): Promise<void>;
  /**
   * Why a pending execution still waits (its concurrency group's turn), or null once it does not.
   * False when it was not pending.
   */
  setPendingReason(id: string, reason: string | null): Promise<boolean>;
  /**
   * blocked|pending|running -> a finished status, stamping ended_at, and its cluster-wide slot
   * (slots.ts) freed. False when it had already finished.
   */
  setEnded(id: string, status: RunStatus, reason: string | null, at?: string): Promise<boolean>;
  /**
   * The latest execution that is running or finished (pending and blocked ones don't count: a
   * badge should not flicker to "pending", and a fork's pull request waiting for approval says
   * nothing about the branch), on that branch when one is given, on any ref otherwise.
   */
  latestForBadge(projectId: string, branch?: string): Promise<Execution | undefined>;
  /** How many executions are in each status; statuses no execution has are left out. */
  countByStatus(): Promise<StatusCount[]>;
  /**
   * Deletes finished executions created before `before`, with their steps, environments and
   * artifacts rows. Returns their logs_dir values: removing the files is the caller's job.
   */
  deleteOlderThan(before: Date): Promise<string[]>;
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(limit)));
}

/** The status and branch filters shared by the executions lists. */
function filtered(
  query: SelectQueryBuilder<Database, 'executions', Execution>,
  options: ListExecutionsOptions,
): SelectQueryBuilder<Database, 'executions', Execution> {
  let result = query;
  if (options.status !== undefined) result = result.where('status', '=', options.status);
  if (options.branch !== undefined) {
    result = result.where('ref', '=', options.branch).where('ref_type', '=', 'branch');
  }
  return result;
}

export function executionRepo({ db, now }: RepoContext): ExecutionRepo {
  // Every look at an execution, and every report, heartbeat and log read, starts here.
  const getQuery = reusedQuery(db, (id: string) =>
    db.selectFrom('executions').selectAll().where('id', '=', id),
  );
  // Badges are fetched by every view of a README that shows one.
  const badgeCandidates = (projectId: string) =>
    db
      .selectFrom('executions')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('status', 'in', ['running', ...FINISHED]);
  const newestFirst = <Q extends ReturnType<typeof badgeCandidates>>(query: Q) =>
    query.orderBy('created_at', 'desc').orderBy('number', 'desc').limit(1);
  const badgeQuery = reusedQuery(db, (projectId: string) => newestFirst(badgeCandidates(projectId)));
  const branchBadgeQuery = reusedQuery(db, (projectId: string, branch: string) =>
    newestFirst(badgeCandidates(projectId).where('ref', '=', branch).where('ref_type', '=', 'branch')),
  );
  return {
    async create(input) {
      const id = newRunId();
      const created = now();
      const { external } = input;
      // The counter lives on the project row: the UPDATE takes the write lock first (SQLite)
      // or the row lock (PostgreSQL), so concurrent creates get distinct numbers, and numbers
      // are never reused after old executions are deleted.
      return db.transaction().execute(async (trx) => {
        const counter = await trx
          .updateTable('projects')
          .set((eb) => ({ last_execution_number: eb('last_execution_number', '+', 1) }))
          .where('id', '=', input.project_id)
          .returning('last_execution_number')
          .executeTakeFirst();
        if (!counter) throw new NotFoundError('project', input.project_id);
        const execution: Execution = {
          id,
          project_id: input.project_id,
          number: counter.last_execution_number,
          status: external ? 'running' : input.blocked ? 'blocked' : 'pending',
          ...triggerColumns(input.trigger),
          message: input.message ?? null,
          reason: null,
          created_at: created,
          started_at: external ? created : null,
          ended_at: null,
          logs_dir: input.logs_dir ?? `executions/${id}`,
          rerun_of: input.rerun_of ?? null,
          rerun_from_failed: input.rerun_from_failed ? 1 : 0,
          session_id: external?.session_id ?? null,
          external: external ? 1 : 0,
          name: external?.name ?? null,
          heartbeat_timeout_s: external?.heartbeat_timeout_s ?? null,
          last_heartbeat_at: external ? created : null,
          source_repo: input.source_repo ?? null,
          approved_by: null,
          approved_at: null,
          concurrency_group: null,
          runner: null,
          server: input.server ?? null,
        };
        await trx.insertInto('executions').values(execution).execute();
        return execution;
      });
    },

    get: async (id) => (await getQuery(id))[0],

    async listByProject(projectId, options = {}) {
      const limit = clampLimit(options.limit);
      let query = filtered(
        db.selectFrom('executions').selectAll().where('project_id', '=', projectId),
        options,
      );
      if (options.cursor !== undefined) {
        const after = decodeCursor(options.cursor);
        query = query.where((eb) =>
          eb.or([
            eb('created_at', '<', after.created_at),
            eb.and([eb('created_at', '=', after.created_at), eb('number', '<', after.number)]),
          ]),
        );
      }
      // One extra row tells whether there is a next page without a count query.
      const rows = await query
        .orderBy('created_at', 'desc')
        .orderBy('number', 'desc')
        .limit(limit + 1)
        .execute();
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items, next_cursor: rows.length > limit && last ? encodeCursor(last) : null };
    },

    async listRecent(projectIds, options = {}) {
      if (projectIds.length === 0) return { items: [], next_cursor: null };
      const limit = clampLimit(options.limit);
      let query = filtered(
        db.selectFrom('executions').selectAll().where('project_id', 'in', projectIds),
        options,
      );
      if (options.cursor !== undefined) {
        const after = decodeRecentCursor(options.cursor);
        query = query.where((eb) =>
          eb.or([
            eb('created_at', '<', after.created_at),
            eb.and([eb('created_at', '=', after.created_at), eb('number', '<', after.number)]),
            eb.and([
              eb('created_at', '=', after.created_at),
              eb('number', '=', after.number),
              eb('id', '<', after.id),
            ]),
          ]),
        );
      }
      // Numbers keep one project's executions newest first; the id orders the remaining ties.
      const rows = await query
        .orderBy('created_at', 'desc')
        .orderBy('number', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items, next_cursor: rows.length > limit && last ? encodeRecentCursor(last) : null };
    },

    async listByStatus(statuses) {
      if (statuses.length === 0) return [];
      return db
        .selectFrom('executions')
        .selectAll()
        .where('status', 'in', statuses)
        .orderBy('created_at')
        .orderBy('number')
        .execute();
    },

    async setCommit(id, commit) {
      await db.updateTable('executions').set(commit).where('id', '=', id).execute();
    },

    async setHeartbeat(id, at) {
      const result = await db
        .updateTable('executions')
        .set({ last_heartbeat_at: at })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async setApproved(id, by, at = now()) {
      const result = await db
        .updateTable('executions')
        .set({ status: 'pending', approved_by: by, approved_at: at })
        .where('id', '=', id)
        .where('status', '=', 'blocked')
        // A started one waits at a step's gate, not as a whole: approving it would run it again.
        .where('started_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async setWaiting(id, waiting) {
      const result = await db
        .updateTable('executions')
        .set({ status: waiting ? 'blocked' : 'running' })
        .where('id', '=', id)
        .where('status', '=', waiting ? 'running' : 'blocked')
        .where('started_at', 'is not', null)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async setStarted(id, at = now()) {
      const result = await db
        .updateTable('executions')
        .set({ status: 'running', started_at: at, reason: null })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async setConcurrencyGroup(id, group) {
      await db.updateTable('executions').set({ concurrency_group: group }).where('id', '=', id).execute();
    },

    async setPendingReason(id, reason) {
      const result = await db
        .updateTable('executions')
        .set({ reason })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async setEnded(id, status, reason, at = now()) {
      if (!FINISHED_STATUSES.has(status))
        throw new RangeError(`setEnded needs a finished status, not '${status}'`);
      const result = await db
        .updateTable('executions')
        .set({ status, reason, ended_at: at })
        .where('id', '=', id)
        .where('status', 'in', ACTIVE)
        .executeTakeFirst();
      // Its cluster-wide slot goes with it, whoever ends it (its server, a terminate from
      // another, the recovery of a server that died): no ended execution holds one (slots.ts).
      await db.deleteFrom('execution_slots').where('execution_id', '=', id).execute();
      return result.numUpdatedRows === 1n;
    },

    async latestForBadge(projectId, branch) {
      const rows =
        branch === undefined ? await badgeQuery(projectId) : await branchBadgeQuery(projectId, branch);
      return rows[0];
    },

    async countByStatus() {
      const rows = await db
        .selectFrom('executions')
        .select((eb) => ['status', eb.fn.countAll<number>().as('count')])
        .groupBy('status')
        .execute();
      return rows.map((row) => ({ status: row.status, count: Number(row.count) }));
    },

    async deleteOlderThan(before) {
      const rows = await db
        .deleteFrom('executions')
        .where('created_at', '<', before.toISOString())
        .where('status', 'in', FINISHED)
        .returning('logs_dir')
        .execute();
      return rows.map((row) => row.logs_dir);
    },
  };
}
