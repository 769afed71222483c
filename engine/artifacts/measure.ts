// An archive's size in entries and bytes, read from its headers before anything is written.
// Extraction checks its budgets as it writes, but an archive past the entry limit then costs a
// file written (and removed again) per entry before the refusal: about a minute for 100,000
// empty files. Reading headers is a fraction of that, so the collection measures first and
// refuses at the first entry past a limit, with the source destroyed there.
import tarStream from 'tar-stream';
import { type ArchiveSource, destroySource, type FeedState, feed } from './archive-source.ts';
import { ArtifactError } from './artifact-error.ts';

export interface ArchiveBudget {
  maxEntries: number;
  /** Bytes of file content. */
  maxBytes: number;
}

export interface ArchiveMeasure {
  entries: number;
  bytes: number;
}

/** Reads `tar` to its end, or rejects with an ArtifactError at the first entry past `budget`. */
export async function measureArchive(tar: ArchiveSource, budget: ArchiveBudget): Promise<ArchiveMeasure> {
  const extract = tarStream.extract();
  const feeding: FeedState = { stopped: false, sourceError: undefined };
  const fed = feed(tar, extract, feeding);
  const measure: ArchiveMeasure = { entries: 0, bytes: 0 };
  try {
    for await (const entry of extract) {
      const { name, size = 0 } = entry.header;
      measure.entries += 1;
      measure.bytes += size;
      if (measure.entries > budget.maxEntries) {
        throw new ArtifactError(
          'GBCMS_ERR_ARTIFACT_TOO_MANY',
          `archive has more than ${budget.maxEntries} entries (stopped at '${name}')`,
          name,
        );
      }
      if (measure.bytes > budget.maxBytes) {
        throw new ArtifactError(
          'GBCMS_ERR_ARTIFACT_TOO_LARGE',
          `artifacts exceed ${budget.maxBytes} bytes (stopped at '${name}')`,
          name,
        );
      }
      entry.resume();
    }
    await fed;
    return measure;
  } catch (error) {
    feeding.stopped = true;
    extract.destroy(new Error('measuring stopped'));
    destroySource(tar);
    if (error instanceof ArtifactError) throw error;
    // The source's own error says more than the "stream was destroyed" it causes downstream.
    const cause = feeding.sourceError ?? error;
    throw new ArtifactError(
      'GBCMS_ERR_ARTIFACT_ARCHIVE',
      `could not read the artifact archive: ${cause instanceof Error ? cause.message : String(cause)}`,
      undefined,
      { cause },
    );
  }
}
