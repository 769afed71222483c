// The scheduler loop: fires the ticks of cron schedules that are due by starting executions
// with event `cron`. Time comes from an injected clock and one pass is `runDue()`, so tests
// move the clock and call it; `start()` only adds the timer that calls it in a server.
//
// Two rules shape a pass:
// - A missed tick fires once. A due schedule's next tick is computed from now, not from the
//   tick that was due, so a server that was down across many ticks starts one execution per
//   schedule when it comes back, not one per tick it missed.
// - A tick fires on one server only. Every server on the same data folder sees the same due
//   row; each claims it with a compare-and-set on next_run_at (store/schedules.ts) and only the
//   one whose update changed the row starts the execution.

import { nextTick } from '../../engine/config/cron.ts';
import type { ExecutionLogger } from '../executions/logger.ts';
import type { StartExecutionRequest } from '../executions/types.ts';
import type { Execution, Schedule, Store } from '../store/index.ts';

/** Longest sleep between passes: how late a schedule added by another process may first fire. */
const DEFAULT_MAX_SLEEP_MS = 10_000;
/** Shortest sleep, so servers whose clocks disagree slightly do not spin. */
const MIN_SLEEP_MS = 50;

export interface SchedulerOptions {
  store: Pick<Store, 'schedules' | 'projects'>;
  /** The execution manager's start. */
  start: (request: StartExecutionRequest) => Promise<Execution>;
  logger: ExecutionLogger;
  now?: () => Date;
  maxSleepMs?: number;
}

export interface Fired {
  schedule: Schedule;
  execution: Execution;
}

/** What an execution started by `schedule` says about where it came from. */
export function scheduleMessage(schedule: Pick<Schedule, 'name' | 'cron' | 'timezone'>): string {
  const timing = `${schedule.cron}, ${schedule.timezone}`;
  return schedule.name ? `schedule ${schedule.name} (${timing})` : `schedule ${timing}`;
}

export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #now: () => Date;
  #pass: Promise<Fired[]> | undefined;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** Fires every tick due now that no other server has claimed; never two passes at once. */
  runDue(): Promise<Fired[]> {
    this.#pass ??= this.#runDue().finally(() => {
      this.#pass = undefined;
    });
    return this.#pass;
  }

  /**
   * Runs a pass now, then again at each schedule's next tick (and at least every `maxSleepMs`,
   * to see schedules other processes add). The timer does not keep the process alive. The
   * returned stop function resolves once a pass under way has finished.
   */
  start(): () => Promise<void> {
    const { store, logger } = this.#options;
    const maxSleepMs = this.#options.maxSleepMs ?? DEFAULT_MAX_SLEEP_MS;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const loop = async () => {
      try {
        await this.runDue();
      } catch (error) {
        logger.error({ err: error }, 'schedule pass failed');
      }
      if (stopped) return;
      let delay = maxSleepMs;
      try {
        const soonest = await store.schedules.soonest();
        if (soonest !== undefined) delay = Date.parse(soonest) - this.#now().getTime();
      } catch (error) {
        logger.error({ err: error }, 'could not read the next schedule tick');
      }
      if (stopped) return;
      timer = setTimeout(() => void loop(), Math.min(maxSleepMs, Math.max(MIN_SLEEP_MS, delay)));
      timer.unref();
    };
    void loop();
    return async () => {
      stopped = true;
      clearTimeout(timer);
      await this.#pass;
    };
  }

  async #runDue(): Promise<Fired[]> {
    const { store } = this.#options;
    const now = this.#now();
    const fired: Fired[] = [];
    for (const schedule of await store.schedules.due(now.toISOString())) {
      const due = schedule.next_run_at;
      if (due === null) continue;
      if (!(await store.schedules.claim(schedule.id, due, this.#following(schedule, now)))) continue;
      const execution = await this.#fire(schedule, now);
      if (execution) fired.push({ schedule, execution });
    }
    return fired;
  }

  /** The tick after now (not after the due one: missed ticks collapse into the one firing now). */
  #following(schedule: Schedule, now: Date): string | null {
    try {
      return nextTick(schedule, now)?.toISOString() ?? null;
    } catch (error) {
      // Only a zone the runtime stopped knowing gets here; the schedule then rests.
      this.#options.logger.warn({ err: error, schedule: schedule.id }, 'schedule has no next tick');
      return null;
    }
  }

  /** The tick is claimed: whatever happens now, no other server fires it. */
  async #fire(schedule: Schedule, now: Date): Promise<Execution | undefined> {
    const { store, start, logger } = this.#options;
    const at = now.toISOString();
    try {
      const project = await store.projects.get(schedule.project_id);
      if (!project) return undefined; // deleted meanwhile; its schedules go with it
      const execution = await start({
        project,
        trigger: { event: 'cron', branch: schedule.branch },
        source: { kind: 'project' },
        message: scheduleMessage(schedule),
      });
      await store.schedules.recordRun(schedule.id, at, execution.id);
      logger.info(
        { schedule: schedule.id, project: project.id, execution: execution.id, tick: schedule.next_run_at },
        'schedule fired',
      );
      return execution;
    } catch (error) {
      logger.error({ err: error, schedule: schedule.id }, 'schedule tick could not start an execution');
      await store.schedules.recordRun(schedule.id, at, null).catch(() => undefined);
      return undefined;
    }
  }
}
