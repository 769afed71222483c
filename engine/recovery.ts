// After a crash of the process running it, a run is left `running` in its run.json with its
// containers (or scratch folders) still there. The next `gbcms run` in that project finds such
// runs by their owner file (pid and host of the process that ran them), marks them `error` and
// has the backend remove what is left, from the run id alone (Backend.destroyRun).
//
// A run can also end cleanly while its cleanup fails (the Docker daemon was restarting): its
// owner file is released, but the backend still lists it among its leftovers. The next
// `gbcms run` removes those too (removeLeftoverRuns), and keeps trying at every run until the
// removal succeeds.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Backend } from './backends/types.ts';
import { type LeftoverSweep, sweepLeftovers } from './leftovers.ts';
import type { RunRecord } from './run-record.ts';
import { abandonedStepStatus, isFinished } from './status.ts';

export const OWNER_FILE = 'owner.json';

interface Owner {
  pid: number;
  host: string;
}

/** Marks the run directory as owned by this process until `releaseRun`. */
export async function claimRun(runDir: string): Promise<void> {
  const owner: Owner = { pid: process.pid, host: hostname() };
  await writeFile(join(runDir, OWNER_FILE), `${JSON.stringify(owner)}\n`);
}

export async function releaseRun(runDir: string): Promise<void> {
  await rm(join(runDir, OWNER_FILE), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export interface RecoveredRun {
  id: string;
  pid: number;
}

/**
 * Runs under `runsDir` whose owning process on this host is gone: recorded as `error`
 * ("engine restarted"), their unfinished steps too, and their leftovers removed.
 */
export async function recoverCrashedRuns(runsDir: string, backend: Backend): Promise<RecoveredRun[]> {
  let entries: string[];
  try {
    entries = await readdir(runsDir);
  } catch {
    return [];
  }
  const recovered: RecoveredRun[] = [];
  for (const id of entries) {
    const dir = join(runsDir, id);
    const owner = await readJson<Owner>(join(dir, OWNER_FILE));
    if (!owner || owner.host !== hostname() || alive(owner.pid)) continue;
    const record = await readJson<RunRecord>(join(dir, 'run.json'));
    if (record && !isFinished(record.status)) {
      const now = new Date().toISOString();
      const reason = `engine restarted: the gbcms process that ran it (pid ${owner.pid}) ended without finishing`;
      for (const step of record.steps) {
        if (isFinished(step.status)) continue;
        const ended_at = step.status === 'running' ? now : null;
        Object.assign(step, { status: abandonedStepStatus(), reason, ended_at });
      }
      Object.assign(record, { status: 'error', reason, ended_at: now });
      record.duration_ms = Date.parse(now) - Date.parse(record.started_at);
      await writeFile(join(dir, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
    }
    recovered.push({ id, pid: owner.pid });
    // When the engine is still unreachable the owner file stays: the next run tries again.
    await backend.destroyRun(id).then(
      () => releaseRun(dir),
      () => undefined,
    );
  }
  return recovered;
}

/**
 * Removes what the backend still holds for runs under `runsDir` that no live process owns: runs
 * that ended (or crashed) while their cleanup could not reach the engine. Runs of other projects
 * on the same engine are not this folder's to judge and stay.
 */
export async function removeLeftoverRuns(runsDir: string, backend: Backend): Promise<LeftoverSweep> {
  const ours = new Set(await readdir(runsDir).catch(() => [] as string[]));
  // The backend is asked first: a run claims its folder before it creates anything, so a run
  // listed there with no live owner afterwards is over, not one that is just starting.
  const sweep = await sweepLeftovers(backend, async (id) => {
    if (!ours.has(id)) return false;
    const owner = await readJson<Owner>(join(runsDir, id, OWNER_FILE));
    return owner === undefined || (owner.host === hostname() && !alive(owner.pid));
  });
  for (const id of sweep.removed) await releaseRun(join(runsDir, id));
  return sweep;
}
