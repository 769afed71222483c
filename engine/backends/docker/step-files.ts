// Files the engine reads from a step's workspace while the step runs or after it ended (through
// fetchArchive): its $GBCMS_REPORTS file and its JUnit report. They live on the workspace volume,
// because Docker's archive API cannot reach a tmpfs; the volume gets a `.gbcms/reports/` folder
// the step users can write to when it is seeded.
import { posix } from 'node:path';
import type tarStream from 'tar-stream';
import { type PlannedStep, REPORTS_DIR, reportsFileOf } from '../../plan.ts';
import { WORKSPACE_PATH } from './convert.ts';

const REPORTS_ENV = 'GBCMS_REPORTS';

/** The step's container environment with $GBCMS_REPORTS set by the engine, whatever the step said. */
export function withReportsEnv(env: readonly string[] | undefined, step: PlannedStep): string[] {
  return [
    ...(env ?? []).filter((entry) => !entry.startsWith(`${REPORTS_ENV}=`)),
    `${REPORTS_ENV}=${posix.join(WORKSPACE_PATH, reportsFileOf(step))}`,
  ];
}

/**
 * Adds `<prefix>/.gbcms/reports/` to the archive that seeds the workspace. The reports folder
 * is world-writable with the sticky bit (like /tmp): steps of a run may run as different
 * users, and each must be able to create its own file but not remove another's.
 */
export function addReportsFolder(
  pack: tarStream.Pack,
  prefix: string,
  owner: { uid: number; gid: number },
): void {
  const dir = (name: string, mode: number) =>
    pack.entry({ name: `${prefix}/${name}/`, type: 'directory', mode, uid: owner.uid, gid: owner.gid });
  const [top] = REPORTS_DIR.split('/');
  dir(top ?? REPORTS_DIR, 0o755);
  dir(REPORTS_DIR, 0o1777);
}
