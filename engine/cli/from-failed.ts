// `--from-failed [RUN_ID]` of `gbcms run` and `gbcms plan`: which earlier run to re-run from its
// failed steps (default: the latest one under DIR/.gbcms/runs), read from its run.json, and
// what the re-run reuses of it: its artifacts are kept in its own folder (artifacts/).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plan } from '../plan.ts';
import { decideReuse, hasFailedSteps } from '../rerun/decide.ts';
import { keptArtifacts } from '../rerun/restore.ts';
import type { ReuseOptions } from '../rerun/reused-steps.ts';
import { RUN_FILE } from '../run-file.ts';
import type { RunRecord } from '../run-record.ts';
import { isFinished } from '../status.ts';

const FLAG = '--from-failed';
/** What newRunId makes: 16 random bytes in base64url. */
const RUN_ID = /^[A-Za-z0-9_-]{22}$/;

export const FROM_FAILED_HELP = `  --from-failed [RUN_ID]  run again only the failed, killed, error and skipped steps of RUN_ID
                          (default: the latest run here); a step that succeeded there and
                          declares artifacts is reused: its artifacts are restored instead
`;

/** A `gbcms run` or `gbcms plan` re-running an earlier run from its failed steps. */
export interface FromFailed {
  /** Undefined: the latest run. */
  runId?: string;
}

/**
 * Takes `--from-failed`, `--from-failed RUN_ID` or `--from-failed=RUN_ID` out of `argv`: node's
 * parseArgs knows no option with an optional value. The word after it is taken as the run id
 * only when it looks like one, so `--from-failed DIR` still means DIR.
 */
export function takeFromFailed(argv: readonly string[]): { argv: string[]; fromFailed?: FromFailed } {
  const rest: string[] = [];
  let fromFailed: FromFailed | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg.startsWith(`${FLAG}=`)) {
      fromFailed = { runId: arg.slice(FLAG.length + 1) };
    } else if (arg === FLAG) {
      const next = argv[i + 1];
      fromFailed = next !== undefined && RUN_ID.test(next) ? { runId: next } : {};
      if (fromFailed.runId !== undefined) i += 1;
    } else {
      rest.push(arg);
    }
  }
  return fromFailed ? { argv: rest, fromFailed } : { argv: rest };
}

/** The run to re-run cannot be used: the message says which and why. */
export class FromFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FromFailedError';
  }
}

export interface EarlierRun {
  record: RunRecord;
  dir: string;
}

/** The run `runId` under `runsDir`, or the one that started last; it must have ended with failed steps. */
export async function readEarlierRun(runsDir: string, runId: string | undefined): Promise<EarlierRun> {
  if (runId !== undefined && !RUN_ID.test(runId)) {
    throw new FromFailedError(
      `--from-failed ${JSON.stringify(runId)}: not a run id (22 letters, digits, - and _)`,
    );
  }
  const ids = runId !== undefined ? [runId] : await readdir(runsDir).catch(() => [] as string[]);
  const runs: EarlierRun[] = [];
  for (const id of ids) {
    const dir = join(runsDir, id);
    const record = await readRecord(join(dir, RUN_FILE));
    if (record) runs.push({ record, dir });
  }
  if (runs.length === 0) {
    throw new FromFailedError(
      runId !== undefined
        ? `no run ${runId} in ${runsDir}`
        : `no earlier run in ${runsDir} to re-run from its failed steps`,
    );
  }
  const latest = runs.reduce((a, b) => (b.record.started_at > a.record.started_at ? b : a));
  const { record } = latest;
  if (!isFinished(record.status)) {
    throw new FromFailedError(
      `run ${record.id} has not ended (${record.status}): its failed steps are not known yet`,
    );
  }
  if (!hasFailedSteps(record)) {
    throw new FromFailedError(
      `run ${record.id} has no failed, killed, error or skipped steps: nothing to re-run`,
    );
  }
  return latest;
}

async function readRecord(file: string): Promise<RunRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

/** What a re-run of `earlier` from its failed steps reuses, for runPipeline. */
export async function reuseOf(earlier: EarlierRun, plan: Plan): Promise<ReuseOptions> {
  const artifactsDir = join(earlier.dir, 'artifacts');
  const kept = await keptArtifacts(artifactsDir, earlier.record.artifacts);
  return { plan: decideReuse(plan, earlier.record, kept), artifactsDir };
}

/** `gbcms plan --from-failed`: one line per step, `reuse` or `run`, and why. */
export function formatReuse(earlier: EarlierRun, reuse: ReuseOptions): string {
  const { record } = earlier;
  const lines = [
    `re-run from the failed steps of run ${record.id} (${record.status}, started ${record.started_at}):`,
  ];
  const width = Math.max(...[...reuse.plan.steps.keys()].map((name) => name.length));
  for (const [name, decision] of reuse.plan.steps) {
    lines.push(`  ${name.padEnd(width)}  ${decision.action.padEnd(5)}  ${decision.reason}`);
  }
  return `${lines.join('\n')}\n`;
}
