// Schedules written in the pipeline file (`schedules:`). The file on the project's default branch
// is the truth: each push to that branch makes the project's file schedules what its file says
// (by name: new ones added, changed ones re-timed, missing ones removed), and at start each
// project's default branch is read once, for pushes made while no server listened. Schedules
// made through the API, the page or the CLI are never touched. A file that does not lint
// changes nothing: a typo must not silently drop the nightly build.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { checkTiming, nextTick, serverTimeZone } from '../../engine/config/cron.ts';
import type { FileSchedule } from '../../engine/plan.ts';
import { newRunId } from '../../engine/run-id.ts';
import { loadExecutionPlan } from '../executions/execute.ts';
import type { ExecutionLogger } from '../executions/logger.ts';
import { prepareSource } from '../executions/source.ts';
import { refNameProblem } from '../git/ref-name.ts';
import type { Project, Schedule, Store } from '../store/index.ts';

export interface FileSchedulesOptions {
  store: Pick<Store, 'schedules' | 'projects'>;
  /** Checkouts for the start-up read go below it, each removed after. */
  dataDir: string;
  logger: ExecutionLogger;
  now?: () => Date;
}

export interface SyncResult {
  added: string[];
  changed: string[];
  removed: string[];
  /** Schedules the server cannot run (a branch name git refuses), by name, with why. */
  refused: { name: string; reason: string }[];
}

const CHECKOUTS_DIR = 'schedule-checkouts';

export class FileSchedules {
  readonly #options: FileSchedulesOptions;
  readonly #now: () => Date;
  /** One sync per project at a time: two pushes in a row must not both add `nightly`. */
  readonly #chains = new Map<string, Promise<unknown>>();

  /** Set on shutdown: syncAll() reads no further project, so the store may close. */
  #stopped = false;

  constructor(options: FileSchedulesOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** Stops syncAll() before its next project. */
  stop(): void {
    this.#stopped = true;
  }

  /** The project's file schedules become `schedules`. */
  sync(
    project: Pick<Project, 'id' | 'default_branch'>,
    schedules: readonly FileSchedule[],
  ): Promise<SyncResult> {
    const previous = this.#chains.get(project.id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.#sync(project, schedules));
    this.#chains.set(project.id, next);
    const forget = () => {
      if (this.#chains.get(project.id) === next) this.#chains.delete(project.id);
    };
    // The caller handles a failed sync; this bookkeeping must not leave a rejection unhandled.
    next.then(forget, forget);
    return next;
  }

  /**
   * Reads every project's default branch and syncs its schedules, one project at a time; a
   * project whose branch cannot be fetched or whose file does not lint keeps what it had.
   */
  async syncAll(): Promise<void> {
    const { store, logger } = this.#options;
    for (const project of await store.projects.list({ id: '', role: 'admin' })) {
      if (this.#stopped) return;
      try {
        await this.#readDefaultBranch(project);
      } catch (error) {
        logger.warn({ err: error, project: project.id }, "could not read the default branch's schedules");
      }
    }
  }

  async #readDefaultBranch(project: Project): Promise<void> {
    const { dataDir, logger } = this.#options;
    const checkout = join(dataDir, CHECKOUTS_DIR, newRunId());
    await mkdir(checkout, { recursive: true });
    try {
      const trigger = { event: 'push', branch: project.default_branch } as const;
      await prepareSource({ source: { kind: 'project' }, project, trigger }, checkout);
      const loaded = await loadExecutionPlan(checkout, trigger, project.name, dataDir);
      if ('reason' in loaded) {
        logger.warn(
          { project: project.id, reason: loaded.reason },
          "the default branch's pipeline file is not valid: its schedules stay as they were",
        );
        return;
      }
      await this.sync(project, loaded.plan.schedules ?? []);
    } finally {
      await rm(checkout, { recursive: true, force: true });
    }
  }

  async #sync(
    project: Pick<Project, 'id' | 'default_branch'>,
    schedules: readonly FileSchedule[],
  ): Promise<SyncResult> {
    const { store, logger } = this.#options;
    const result: SyncResult = { added: [], changed: [], removed: [], refused: [] };
    const existing = new Map<string, Schedule>();
    for (const row of await store.schedules.listByProject(project.id)) {
      if (row.source === 'file' && row.name !== null) existing.set(row.name, row);
    }
    const now = this.#now();
    for (const schedule of schedules) {
      const timing = {
        cron: schedule.cron.trim(),
        timezone: schedule.timezone ?? serverTimeZone(),
        branch: schedule.branch ?? project.default_branch,
      };
      const problem = timingProblem(timing);
      const row = existing.get(schedule.name);
      existing.delete(schedule.name);
      if (problem) {
        result.refused.push({ name: schedule.name, reason: problem });
        if (row) await store.schedules.remove(project.id, row.id);
        continue;
      }
      const next_run_at = nextTick(timing, now)?.toISOString() ?? null;
      if (!row) {
        await store.schedules.create({
          project_id: project.id,
          name: schedule.name,
          ...timing,
          next_run_at,
          source: 'file',
        });
        result.added.push(schedule.name);
      } else if (
        row.cron !== timing.cron ||
        row.timezone !== timing.timezone ||
        row.branch !== timing.branch
      ) {
        await store.schedules.changeTiming(row.id, { ...timing, next_run_at });
        result.changed.push(schedule.name);
      }
    }
    for (const [name, row] of existing) {
      await store.schedules.remove(project.id, row.id);
      result.removed.push(name);
    }
    if (result.added.length + result.changed.length + result.removed.length + result.refused.length > 0) {
      logger.info({ project: project.id, ...result }, 'schedules updated from the pipeline file');
    }
    return result;
  }
}

/** The linter checked the expression and zone; the branch is the server's to check. */
function timingProblem(timing: { cron: string; timezone: string; branch: string }): string | undefined {
  const check = checkTiming(timing);
  if (!check.ok) return check.message;
  const branch = refNameProblem(timing.branch);
  return branch ? `branch '${timing.branch}' ${branch}` : undefined;
}
