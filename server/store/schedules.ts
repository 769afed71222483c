// Cron schedules of projects, and the claim that keeps a tick from firing twice.
//
// Several server processes may share one data folder (and later one PostgreSQL database). Each
// runs the scheduler loop, so each sees the same due tick. Whoever fires it first moves
// `next_run_at` from the due value to the following tick in one conditional UPDATE:
//   UPDATE schedules SET next_run_at = :next WHERE id = :id AND next_run_at = :due
// Exactly one of them changes a row; only that one starts the execution. This is a plain
// compare-and-set, portable as is to PostgreSQL (no locks, no SQLite-specific syntax), and it is
// the mechanism the scale-out work is to reuse.
import type { RepoContext } from './context.ts';
import { newId } from './context.ts';
import type { Schedule, ScheduleSource } from './schema.ts';

export interface NewSchedule {
  project_id: string;
  name?: string | null;
  cron: string;
  branch: string;
  timezone: string;
  /** The first tick, computed by the caller from the expression (the store knows no cron). */
  next_run_at: string | null;
  created_by?: string | null;
  /** Default null: made through the API, the page or the CLI. */
  source?: ScheduleSource | null;
}

/** What a pipeline file's schedule may change at the next push; the row and its history stay. */
export type ScheduleTimingChange = Pick<Schedule, 'cron' | 'branch' | 'timezone' | 'next_run_at'>;

export interface ScheduleRepo {
  create(input: NewSchedule): Promise<Schedule>;
  get(id: string): Promise<Schedule | undefined>;
  /** Oldest first. */
  listByProject(projectId: string): Promise<Schedule[]>;
  /** True when the schedule existed in that project. */
  remove(projectId: string, id: string): Promise<boolean>;
  /** A new expression, branch or zone, with the next tick computed for it. */
  changeTiming(id: string, change: ScheduleTimingChange): Promise<void>;
  /** Schedules whose next tick is at or before `at` (ISO-8601), soonest first. */
  due(at: string): Promise<Schedule[]>;
  /** The soonest next tick of any schedule, for how long the scheduler may sleep. */
  soonest(): Promise<string | undefined>;
  /**
   * Moves the schedule from the tick `due` to `next` if no one else did: true for the one
   * caller that should fire the tick. See the comment at the top of this file.
   */
  claim(id: string, due: string, next: string | null): Promise<boolean>;
  /** Records what the claimed tick started. */
  recordRun(id: string, at: string, executionId: string | null): Promise<void>;
}

export function scheduleRepo({ db, now }: RepoContext): ScheduleRepo {
  return {
    async create(input) {
      return db
        .insertInto('schedules')
        .values({
          id: newId(),
          project_id: input.project_id,
          name: input.name ?? null,
          cron: input.cron,
          branch: input.branch,
          timezone: input.timezone,
          next_run_at: input.next_run_at,
          last_run_at: null,
          last_execution_id: null,
          created_by: input.created_by ?? null,
          created_at: now(),
          source: input.source ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    get: (id) => db.selectFrom('schedules').selectAll().where('id', '=', id).executeTakeFirst(),

    listByProject: (projectId) =>
      db
        .selectFrom('schedules')
        .selectAll()
        .where('project_id', '=', projectId)
        .orderBy('created_at')
        .orderBy('id')
        .execute(),

    async remove(projectId, id) {
      const result = await db
        .deleteFrom('schedules')
        .where('id', '=', id)
        .where('project_id', '=', projectId)
        .executeTakeFirst();
      return result.numDeletedRows === 1n;
    },

    async changeTiming(id, change) {
      await db.updateTable('schedules').set(change).where('id', '=', id).execute();
    },

    due: (at) =>
      db
        .selectFrom('schedules')
        .selectAll()
        .where('next_run_at', 'is not', null)
        .where('next_run_at', '<=', at)
        .orderBy('next_run_at')
        .execute(),

    async soonest() {
      const row = await db
        .selectFrom('schedules')
        .select('next_run_at')
        .where('next_run_at', 'is not', null)
        .orderBy('next_run_at')
        .limit(1)
        .executeTakeFirst();
      return row?.next_run_at ?? undefined;
    },

    async claim(id, due, next) {
      const result = await db
        .updateTable('schedules')
        .set({ next_run_at: next })
        .where('id', '=', id)
        .where('next_run_at', '=', due)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async recordRun(id, at, executionId) {
      await db
        .updateTable('schedules')
        .set({ last_run_at: at, last_execution_id: executionId })
        .where('id', '=', id)
        .execute();
    },
  };
}
