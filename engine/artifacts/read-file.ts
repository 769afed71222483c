// One regular file out of an archive from Backend.fetchArchive: how the engine reads a step's
// $GBCMS_REPORTS and JUnit files on every backend. A symlink is never followed and a folder is
// not a file: both read as "no such file". Archives carry whole files (Docker's API has no
// range reads), so the wanted range is cut out while the rest streams past.
import { posix } from 'node:path';
import tarStream from 'tar-stream';
import type { Backend, RunContext } from '../backends/types.ts';
import { type PlannedStep, workspaceRelative } from '../plan.ts';
import { type ArchiveSource, destroySource, type FeedState, feed } from './archive-source.ts';
import { entryPath } from './entry-path.ts';

/**
 * Bytes `fromOffset` on (at most `maxBytes`) of the regular file at `path` in the step's
 * workspace; undefined when there is none (missing, a folder, a symlink, outside the workspace).
 */
export async function readStepFile(
  backend: Backend,
  step: PlannedStep,
  run: RunContext,
  path: string,
  fromOffset: number,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<Buffer | undefined> {
  const relative = workspaceRelative(path);
  if (relative === undefined) return undefined;
  const archive = await backend.fetchArchive(step, run, relative);
  if (archive === undefined) return undefined;
  return readArchivedFile(archive, posix.basename(relative), fromOffset, maxBytes);
}

/**
 * Bytes `fromOffset` on, at most `maxBytes` of them, of the archive's top entry when it is a
 * regular file named `name`; undefined otherwise. Consumes or destroys `archive`.
 */
export async function readArchivedFile(
  archive: ArchiveSource,
  name: string,
  fromOffset: number,
  maxBytes: number,
): Promise<Buffer | undefined> {
  const extract = tarStream.extract();
  const feeding: FeedState = { stopped: false, sourceError: undefined };
  const fed = feed(archive, extract, feeding);
  try {
    for await (const entry of extract) {
      if (entry.header.type !== 'file' || !isNamed(entry.header.name, name)) return undefined;
      return await readRange(entry, entry.header.size ?? 0, fromOffset, maxBytes);
    }
    await fed;
    return undefined;
  } catch (error) {
    // The source's own error says more than the "stream was destroyed" it causes downstream.
    throw feeding.sourceError ?? error;
  } finally {
    feeding.stopped = true;
    extract.destroy();
    destroySource(archive);
  }
}

function isNamed(entryName: string, name: string): boolean {
  try {
    return entryPath(entryName) === name;
  } catch {
    return false;
  }
}

async function readRange(
  entry: AsyncIterable<unknown>,
  size: number,
  fromOffset: number,
  maxBytes: number,
): Promise<Buffer> {
  const want = Math.max(0, Math.min(size - fromOffset, maxBytes));
  const out = Buffer.alloc(want);
  if (want === 0) return out;
  let position = 0;
  let skip = fromOffset;
  for await (const chunk of entry) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('the archive entry yielded a non-byte chunk');
    let piece = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (skip > 0) {
      const skipped = Math.min(skip, piece.length);
      skip -= skipped;
      piece = piece.subarray(skipped);
    }
    position += piece.copy(out, position);
    if (position >= want) break;
  }
  return out.subarray(0, position);
}
