// What a cron schedule's expression and time zone mean, for the server's schedules and for a
// pipeline file's `schedules:` alike: validation with messages that name the bad field, and the
// tick after a given instant. Pure; croner parses and computes, its own timers are never
// started (the scheduler loop owns time, so tests can drive it).
import { Cron } from 'croner';

export interface ScheduleTiming {
  cron: string;
  timezone: string;
}

export type TimingCheck = { ok: true } | { ok: false; field: 'cron' | 'timezone'; message: string };

/** The zone this process runs in: what a schedule given no zone is read in. */
export function serverTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

// Names only (`Europe/Paris`, `UTC`, `America/Argentina/Buenos_Aires`): offsets like `+02:00`
// would freeze a zone's daylight-saving rules out of the schedule.
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

export function timeZoneProblem(zone: string): string | undefined {
  const problem = `timezone '${zone}' is not an IANA time zone name (like Europe/Paris or UTC)`;
  if (zone.length > 64 || !ZONE_NAME.test(zone)) return problem;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return undefined;
  } catch {
    return problem;
  }
}

function parse(timing: ScheduleTiming): Cron {
  // Five fields only: minute precision is what a CI schedule needs, and a seconds field would let
  // one schedule start sixty executions a minute.
  return new Cron(timing.cron, { paused: true, mode: '5-part', timezone: timing.timezone });
}

/** Checks the zone first (croner's errors about an expression read in a bad zone mislead). */
export function checkTiming(timing: ScheduleTiming): TimingCheck {
  const zone = timeZoneProblem(timing.timezone);
  if (zone) return { ok: false, field: 'timezone', message: zone };
  const expression = timing.cron.trim();
  if (!expression.startsWith('@') && expression.split(/\s+/).length !== 5) {
    return {
      ok: false,
      field: 'cron',
      message: `cron '${expression}' must have five fields (minute hour day-of-month month day-of-week) or be a nickname like @daily`,
    };
  }
  let cron: Cron;
  try {
    cron = parse({ ...timing, cron: expression });
  } catch (error) {
    const reason = String((error as Error).message).replace(/^CronPattern:\s*/, '');
    return { ok: false, field: 'cron', message: `cron '${expression}' is invalid: ${lowerFirst(reason)}` };
  }
  if (cron.nextRun(new Date()) === null) {
    return { ok: false, field: 'cron', message: `cron '${expression}' never fires (no such date)` };
  }
  return { ok: true };
}

/** The first tick strictly after `after`, or null when there is none. Expects a checked timing. */
export function nextTick(timing: ScheduleTiming, after: Date): Date | null {
  return parse({ ...timing, cron: timing.cron.trim() }).nextRun(after);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
