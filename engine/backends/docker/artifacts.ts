// Copies a finished step's artifacts out of its stopped container. Docker names the archive's
// entries after the last path segment (`/workspace/dist` -> `dist/...`); stripping that lands
// the artifact at `destDir/<dest>` the same way the local backend does.
import { join, posix } from 'node:path';
import type Docker from 'dockerode';
import { extractArchive } from '../../artifacts/extract.ts';
import type { PlannedStep } from '../../plan.ts';
import type { ArtifactRecord } from '../types.ts';
import { WORKSPACE_PATH } from './convert.ts';
import { isNotFound } from './errors.ts';

export interface CollectOptions {
  destDir: string;
  /** Total size allowed for all the step's artifacts. */
  maxBytes: number;
  /** Told about artifacts the step did not produce; that is the step's business, not a crash. */
  missing(path: string): void;
}

export async function collectContainerArtifacts(
  container: Docker.Container,
  step: PlannedStep,
  options: CollectOptions,
): Promise<ArtifactRecord[]> {
  const records: ArtifactRecord[] = [];
  let used = 0;
  for (const artifact of step.artifacts) {
    const source = posix.join(WORKSPACE_PATH, artifact.path);
    if (!source.startsWith(`${WORKSPACE_PATH}/`)) {
      throw new Error(`artifact path '${artifact.path}' is outside the workspace`);
    }
    let archive: NodeJS.ReadableStream;
    try {
      archive = await container.getArchive({ path: source });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      options.missing(artifact.path);
      continue;
    }
    const files = await extractArchive(archive, join(options.destDir, artifact.dest), {
      // One budget for the whole step, so many artifacts cannot add up past it.
      maxBytes: options.maxBytes - used,
      stripPrefix: posix.basename(artifact.path),
    });
    for (const file of files) {
      used += file.size;
      const path = file.path === '' ? artifact.dest : `${artifact.dest}/${file.path}`;
      records.push({ step: step.name, path, size: file.size, sha256: file.sha256 });
    }
  }
  return records;
}
