// Waiting in tests without wall-clock assertions: a condition is polled until it holds. The
// bound is there only so that a hang ends the test; loaded CI machines stay far below it.

import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

export const HANG_MS = 180_000;

/** Resolves with the first truthy value of `check`. */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  intervalMs = 100,
): Promise<T> {
  const until = Date.now() + HANG_MS;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`still waiting, after ${HANG_MS / 1000} s, for ${what}`);
    await sleep(intervalMs);
  }
}

const run = promisify(execFile);

/** Processes whose command line holds `marker` and starts with `prefix` (a step's shell, ...). */
export async function processesWith(marker: string, prefix: string): Promise<string[]> {
  const { stdout } = await run('ps', ['-eo', 'pid=,args=']);
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.replace(/^\d+\s+/, '').startsWith(prefix) && line.includes(marker));
}
