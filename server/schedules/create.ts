// Adding a schedule, the same way from the API, the page and the CLI: the input checked field
// by field, the first tick computed, the row stored.

import { checkTiming, nextTick, serverTimeZone } from '../../engine/config/cron.ts';
import { refNameProblem } from '../git/ref-name.ts';
import type { Project, Schedule, Store } from '../store/index.ts';

export interface ScheduleInput {
  cron: string;
  /** Default: the project's default branch. */
  branch?: string | undefined;
  name?: string | undefined;
  /** Default: the server's zone. */
  timezone?: string | undefined;
  createdBy?: string | undefined;
}

export const MAX_SCHEDULE_NAME = 100;

/** Input a schedule cannot be made from; `message` names the field. Routes answer 400. */
export class ScheduleInputError extends Error {
  constructor(
    readonly field: 'cron' | 'timezone' | 'branch' | 'name',
    message: string,
  ) {
    super(message);
    this.name = 'ScheduleInputError';
  }
}

export async function addSchedule(
  store: Pick<Store, 'schedules'>,
  project: Pick<Project, 'id' | 'default_branch'>,
  input: ScheduleInput,
  now: Date,
): Promise<Schedule> {
  const timing = { cron: input.cron.trim(), timezone: input.timezone?.trim() || serverTimeZone() };
  const check = checkTiming(timing);
  if (!check.ok) throw new ScheduleInputError(check.field, check.message);
  const branch = input.branch?.trim() || project.default_branch;
  const problem = refNameProblem(branch);
  if (problem) throw new ScheduleInputError('branch', `branch '${branch}' ${problem}`);
  const name = input.name?.trim() || null;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (name !== null && (name.length > MAX_SCHEDULE_NAME || /[\u0000-\u001f\u007f]/.test(name))) {
    throw new ScheduleInputError('name', `name must be at most ${MAX_SCHEDULE_NAME} printable characters`);
  }
  return store.schedules.create({
    project_id: project.id,
    name,
    ...timing,
    branch,
    next_run_at: nextTick(timing, now)?.toISOString() ?? null,
    created_by: input.createdBy ?? null,
  });
}
