// The trigger options `gbcms plan` and `gbcms run` share, and their defaults from git.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Trigger, TriggerEvent } from '../plan.ts';

const git = promisify(execFile);

export const TRIGGER_EVENTS: readonly TriggerEvent[] = [
  'push',
  'pull_request',
  'tag',
  'manual',
  'api',
  'cron',
];

export const TRIGGER_OPTIONS = {
  event: { type: 'string' },
  branch: { type: 'string' },
  tag: { type: 'string' },
  commit: { type: 'string' },
  changed: { type: 'string', multiple: true },
} as const;

export interface TriggerValues {
  event?: string;
  branch?: string;
  tag?: string;
  commit?: string;
  changed?: string[];
}

export class TriggerOptionError extends Error {}

async function gitOutput(dir: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await git('git', ['-C', dir, ...args], { timeout: 5000 });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Builds the trigger from options; branch and commit default to the checkout's own. */
export async function triggerFromOptions(values: TriggerValues, dir: string): Promise<Trigger> {
  const event = (values.event ?? 'manual') as TriggerEvent;
  if (!TRIGGER_EVENTS.includes(event)) {
    throw new TriggerOptionError(
      `--event must be one of ${TRIGGER_EVENTS.join(', ')}, not '${values.event}'`,
    );
  }
  const branch =
    values.branch ??
    (values.tag ? undefined : await gitOutput(dir, ['symbolic-ref', '--short', '-q', 'HEAD']));
  const commit = values.commit ?? (await gitOutput(dir, ['rev-parse', '-q', '--verify', 'HEAD']));
  const trigger: Trigger = { event };
  if (branch) trigger.branch = branch;
  if (values.tag) trigger.tag = values.tag;
  if (commit) trigger.commit = commit;
  if (values.changed) trigger.changedPaths = values.changed;
  return trigger;
}
