// What the server following a runner's execution keeps beside its logs, so that another server
// can follow it on when this one dies (several servers share the data folder): the plan, the
// lease, how many of the runner's events are taken, the steps as they stand, how long each log
// file was then, and the last id of the live stream with its latest events. Written after every batch taken and before
// the runner hears it was taken, so what a successor reads is never ahead of the runner's
// view: anything newer the runner sends again, and the log files are cut back to their recorded
// length first, so no line is written twice.
import { readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plan } from '../../engine/plan.ts';
import type { StepRecord } from '../../engine/run-record.ts';
import type { ExecutionEvent } from '../executions/types.ts';
import type { RemoteSnapshot } from './remote-run.ts';
import type { HandedLease } from './work-queue.ts';

const PLAN_FILE = 'runner-plan.json';
const STATE_FILE = 'runner-state.json';

export interface RunnerState {
  lease: HandedLease;
  runner: string;
  /** Events taken, in the runner's numbering. */
  received: number;
  steps: StepRecord[];
  /** Bytes of each log file (relative to the run folder) once those events were written. */
  logBytes: Record<string, number>;
  /** The live stream's last event id then: a successor's stream goes on after it. */
  streamId: number;
  /**
   * The stream's latest events up to streamId, whole: what a page may not have received when
   * the server died (in its socket, or published just then) is given to it by the successor.
   */
  streamTail?: ExecutionEvent[];
}

export interface FollowedJob {
  plan: Plan;
  projectName: string;
}

export async function writeFollowedJob(runDir: string, job: FollowedJob): Promise<void> {
  await writeAtomically(join(runDir, PLAN_FILE), JSON.stringify(job));
}

export async function writeRunnerState(runDir: string, state: RunnerState): Promise<void> {
  await writeAtomically(join(runDir, STATE_FILE), JSON.stringify(state));
}

/** After a batch of a run whose runner holds it: the state as `holder` (its RemoteRun) has it. */
export async function keepRunnerState(
  runDir: string,
  snapshot: RemoteSnapshot,
  about: {
    holder: { runner: string | undefined; leaseId: string | undefined } | undefined;
    executionId: string;
    labels: string[];
    streamId: number;
    streamTail: ExecutionEvent[];
  },
): Promise<void> {
  const { runner, leaseId } = about.holder ?? {};
  if (runner === undefined || leaseId === undefined) return;
  const lease: HandedLease = {
    id: leaseId,
    executionId: about.executionId,
    runner,
    expiresAt: 0,
    labels: about.labels,
  };
  const { streamId, streamTail } = about;
  await writeRunnerState(runDir, { ...snapshot, lease, runner, streamId, streamTail });
}

/** Both files, or undefined when the execution was never followed on a runner (or they are unreadable). */
export async function readRunnerState(
  runDir: string,
): Promise<{ job: FollowedJob; state: RunnerState } | undefined> {
  try {
    const job = JSON.parse(await readFile(join(runDir, PLAN_FILE), 'utf8')) as FollowedJob;
    const state = JSON.parse(await readFile(join(runDir, STATE_FILE), 'utf8')) as RunnerState;
    return { job, state };
  } catch {
    return undefined;
  }
}

/** Cuts each log file back to its recorded length: lines written after it come again. */
export async function cutLogsBack(runDir: string, logBytes: Record<string, number>): Promise<void> {
  for (const [log, bytes] of Object.entries(logBytes)) {
    await truncate(join(runDir, log), bytes).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

/**
 * A killed process leaves the old file or the new one, whole (no fsync: what a successor needs
 * to survive is the server process, not the machine under the shared folder).
 */
let writes = 0;

async function writeAtomically(file: string, text: string): Promise<void> {
  // Its own temporary file each: two writes at once never rename one another's half-written.
  writes += 1;
  const temporary = `${file}.${process.pid}.${writes}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, file);
}
