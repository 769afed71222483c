// A step's artifacts out of its workspace, the same on every backend: each artifact's archive
// comes from Backend.fetchArchive and goes through the safe extraction, under one budget for
// the whole step so that many artifacts cannot add up past it. The archive is read once: the
// extraction refuses at the first entry past a budget, destroys the source there (a hostile
// archive is never read to its end) and removes what it wrote. Reading it twice, to measure
// first, would double the cost of every artifact to save work only on refused ones.
import { join, posix } from 'node:path';
import type { ArtifactRecord, Backend, RunContext } from '../backends/types.ts';
import type { PlannedStep } from '../plan.ts';
import { DEFAULT_MAX_ENTRIES, extractArchive } from './extract.ts';

/** Bytes of file content one step's artifacts may hold together. */
export const DEFAULT_ARTIFACT_MAX_BYTES = 1024 ** 3;

export interface CollectOptions {
  /** The step's own artifact folder; records are relative to it. */
  destDir: string;
  /** Total for all the step's artifacts; default DEFAULT_ARTIFACT_MAX_BYTES. */
  maxBytes?: number;
  /** Archive entries (files, folders, links) of all the step's artifacts; default DEFAULT_MAX_ENTRIES. */
  maxEntries?: number;
  /** Told about artifacts the step did not produce: that is the step's business, not a failure. */
  missing(path: string): void;
}

/**
 * Extracts the step's artifacts into `destDir/<dest>`. Rejects with an ArtifactError on a
 * hostile archive or past the budget; what that artifact's extraction wrote is then removed.
 */
export async function collectArtifacts(
  backend: Backend,
  step: PlannedStep,
  run: RunContext,
  options: CollectOptions,
): Promise<ArtifactRecord[]> {
  const maxBytes = options.maxBytes ?? DEFAULT_ARTIFACT_MAX_BYTES;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const records: ArtifactRecord[] = [];
  let used = 0;
  let usedEntries = 0;
  for (const artifact of step.artifacts) {
    const archive = await backend.fetchArchive(step, run, artifact.path);
    if (archive === undefined) {
      options.missing(artifact.path);
      continue;
    }
    const { files, entries } = await extractArchive(archive, join(options.destDir, artifact.dest), {
      maxBytes: maxBytes - used,
      maxEntries: maxEntries - usedEntries,
      stripPrefix: posix.basename(artifact.path),
    });
    usedEntries += entries;
    for (const file of files) {
      used += file.size;
      const path = file.path === '' ? artifact.dest : `${artifact.dest}/${file.path}`;
      records.push({ step: step.name, path, size: file.size, sha256: file.sha256 });
    }
  }
  return records;
}
