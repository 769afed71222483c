// Files the engine reads from a step's workspace while the step runs or after it ended: its
// $GBCMS_REPORTS file and its JUnit report. They live on the workspace volume, because Docker's
// archive API cannot reach a tmpfs; the volume gets a `.gbcms/reports/` folder the step users
// can write to when it is seeded.
import { posix } from 'node:path';
import type Docker from 'dockerode';
import tarStream from 'tar-stream';
import { type PlannedStep, REPORTS_DIR, reportsFileOf } from '../../plan.ts';
import { WORKSPACE_PATH } from './convert.ts';
import { isNotFound } from './errors.ts';

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

/**
 * Bytes `fromOffset` on (at most `maxBytes`) of a regular file in the container's workspace;
 * undefined when it is missing, is not a regular file, or the container is gone. Docker has no
 * range reads: the whole file comes over, and only the wanted part is kept.
 */
export async function readContainerFile(
  container: Docker.Container,
  relativePath: string,
  fromOffset: number,
  maxBytes: number,
): Promise<Buffer | undefined> {
  let archive: NodeJS.ReadableStream;
  try {
    archive = await container.getArchive({ path: posix.join(WORKSPACE_PATH, relativePath) });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  const extract = tarStream.extract();
  const stop = () => {
    if ('destroy' in archive && typeof archive.destroy === 'function') archive.destroy();
  };
  archive.on('error', (error: Error) => extract.destroy(error));
  archive.pipe(extract);
  try {
    for await (const entry of extract) {
      // Docker archives a symlink as the link itself: not followed, not read.
      if (entry.header.type !== 'file') return undefined;
      const size = entry.header.size ?? 0;
      const want = Math.max(0, Math.min(size - fromOffset, maxBytes));
      const out = Buffer.alloc(want);
      let position = 0;
      let skip = fromOffset;
      if (want > 0) {
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          let piece = chunk;
          if (skip > 0) {
            const skipped = Math.min(skip, piece.length);
            skip -= skipped;
            piece = piece.subarray(skipped);
          }
          position += piece.copy(out, position);
          if (position >= want) break;
        }
      }
      return out.subarray(0, position);
    }
    return undefined;
  } finally {
    stop();
    extract.destroy();
  }
}
