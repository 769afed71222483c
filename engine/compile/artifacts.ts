// Artifact entries as the backends want them: a clean relative path and a destination name.

import { normaliseRelativePath } from '../config/paths.ts';
import type { Artifact } from '../config/pipeline-file.generated.ts';
import type { ArtifactSpec } from '../plan.ts';

export function normaliseArtifact(artifact: Artifact): ArtifactSpec {
  const path = normaliseRelativePath(typeof artifact === 'string' ? artifact : artifact.path);
  const name = typeof artifact === 'string' ? undefined : artifact.name;
  return { path, dest: name === undefined ? path : normaliseRelativePath(name) };
}
