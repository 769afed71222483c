// Which secrets a run may have, from the trigger alone. Pure. A refusal is a sentence that
// names the secret and the rule, because it becomes the reason a step ends `error`.
import picomatch from 'picomatch';
import { MIN_SECRET_NAME_LENGTH } from '../../engine/lint/rules.ts';
import type { Trigger, TriggerEvent } from '../../engine/plan.ts';

/** The pipeline file's rule for secret names (an environment variable name, 4 characters or more). */
export const SECRET_NAME_PATTERN = `^[A-Za-z_][A-Za-z0-9_]{${MIN_SECRET_NAME_LENGTH - 1},}$`;
const SECRET_NAME = new RegExp(SECRET_NAME_PATTERN);
export const MAX_SECRET_NAME_LENGTH = 128;
/** 64 KiB of UTF-8: environment variables much larger than that break exec in some images. */
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;

export function isSecretName(name: string): boolean {
  return name.length <= MAX_SECRET_NAME_LENGTH && SECRET_NAME.test(name);
}

export interface SecretLimits {
  /** Events the secret is given to; null: every event. */
  events: readonly TriggerEvent[] | null;
  /** Branch globs (picomatch) the secret is given to; null: every branch, and runs on a tag. */
  branches: readonly string[] | null;
}

/** Why a run of `trigger` may not have secret `name`; undefined when it may. */
export function secretRefusal(name: string, limits: SecretLimits, trigger: Trigger): string | undefined {
  if (trigger.fork === true) return `secret ${name} is not available to pull requests from forks`;
  if (limits.events !== null && !limits.events.includes(trigger.event)) {
    return `secret ${name} is not available to ${trigger.event} events (allowed: ${limits.events.join(', ')})`;
  }
  if (limits.branches !== null) {
    const allowed = limits.branches.join(', ');
    if (trigger.branch === undefined) {
      return `secret ${name} is limited to branches ${allowed}, and this ${trigger.event} run is on no branch`;
    }
    // `dot`: branch names like `release/.hotfix` are still branches the glob is meant to cover.
    if (!picomatch(limits.branches as string[], { dot: true })(trigger.branch)) {
      return `secret ${name} is not available on branch ${trigger.branch} (allowed: ${allowed})`;
    }
  }
  return undefined;
}
