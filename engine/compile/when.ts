// `when` conditions: every listed condition must match (AND), any item of one condition's
// list may match (OR). Branches, tags and paths are globs; events are exact.
import picomatch from 'picomatch';
import type { When } from '../config/pipeline-file.generated.ts';
import type { Trigger } from '../plan.ts';

/** Why the step does not run for this trigger, or undefined when it runs. */
export function whenSkipReason(when: When | undefined, trigger: Trigger): string | undefined {
  if (!when) return undefined;
  const reasons: string[] = [];
  // Object order is the file's order, so the reasons read like the file.
  for (const key of Object.keys(when)) {
    const reason = conditionFailure(key, when, trigger);
    if (reason) reasons.push(reason);
  }
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

function conditionFailure(key: string, when: When, trigger: Trigger): string | undefined {
  switch (key) {
    case 'branch':
      return when.branch === undefined ? undefined : refFailure('branch', list(when.branch), trigger.branch);
    case 'tag':
      return when.tag === undefined ? undefined : refFailure('tag', list(when.tag), trigger.tag);
    case 'event': {
      if (when.event === undefined) return undefined;
      const events: string[] = list(when.event);
      return events.includes(trigger.event)
        ? undefined
        : `when.event: '${trigger.event}' does not match ${events.join(', ')}`;
    }
    case 'path':
      return when.path === undefined ? undefined : pathFailure(list(when.path), trigger.changedPaths);
    default:
      throw new Error(`unknown when condition '${key}'`);
  }
}

function refFailure(
  kind: 'branch' | 'tag',
  patterns: string[],
  value: string | undefined,
): string | undefined {
  if (value === undefined) return `when.${kind}: the trigger has no ${kind} (wants ${patterns.join(', ')})`;
  return globMatcher(patterns)(value)
    ? undefined
    : `when.${kind}: '${value}' does not match ${patterns.join(', ')}`;
}

function pathFailure(patterns: string[], changed: string[] | undefined): string | undefined {
  // Unknown changes (a manual run, a first push) must not hide steps.
  if (changed === undefined) return undefined;
  const matches = globMatcher(patterns);
  if (changed.some((path) => matches(normalisePath(path)))) return undefined;
  const count = changed.length === 1 ? '1 changed path' : `${changed.length} changed paths`;
  return `when.path: none of ${count} matches ${patterns.join(', ')}`;
}

/** Dotfiles count: `**\/*.yml` should see `.github/ci.yml`. */
export function globMatcher(patterns: string[]): (value: string) => boolean {
  return picomatch(patterns, { dot: true });
}

function normalisePath(path: string): string {
  return path.replace(/^(?:\.\/)+/, '');
}

function list<T extends string>(value: T | readonly T[]): T[] {
  return typeof value === 'string' ? [value] : [...value];
}
