// The last lines of each step's log, for an execution page's first render.
import type { LogLine } from '../../../engine/logs/log-line.ts';
import { readLogLines } from '../../../engine/logs/log-line.ts';
import type { StepLogTail } from '../../pages/execution-page.ts';
import type { StoredStep } from '../../store/index.ts';
import { resolveInside } from '../api/execution-files.ts';

export const PAGE_LOG_LINES = 2000;

export async function readLogTails(
  dir: string,
  steps: readonly StoredStep[],
  max = PAGE_LOG_LINES,
): Promise<Map<string, StepLogTail>> {
  const tails = new Map<string, StepLogTail>();
  for (const step of steps) {
    const file = resolveInside(dir, step.log);
    if (file !== undefined) tails.set(step.name, await tail(file, max));
  }
  return tails;
}

async function tail(file: string, max: number): Promise<StepLogTail> {
  const lines: LogLine[] = [];
  let omitted = 0;
  try {
    for await (const line of readLogLines(file)) {
      lines.push(line);
      if (lines.length > max) {
        lines.shift();
        omitted += 1;
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return { lines, omitted };
}
