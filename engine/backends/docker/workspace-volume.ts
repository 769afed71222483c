// The run's shared workspace: a labelled volume filled from the host through a container that
// is created and never started. The tar's root entry (`workspace/`, owned by the step user)
// is what hands the volume's root to that user; putArchive into `/` needs a writable rootfs,
// hence this separate, unhardened-but-never-run container.
import type Docker from 'dockerode';
import type { Pack } from 'tar-stream';
import { seedContainerOptions, WORKSPACE_PATH, workspaceVolumeName } from './convert.ts';
import { dockerFailure } from './errors.ts';
import { runLabels } from './labels.ts';
import { packWorkspace } from './pack-workspace.ts';
import { addReportsFolder } from './step-files.ts';

export interface WorkspaceSeed {
  runId: string;
  /** Host directory the files come from. */
  source: string;
  /** The files to copy, relative to `source` (RunInputs.workspaceFiles). */
  files: string[];
  /** Image id to create the seeding container from: one the run already has. */
  image: string;
  owner: { uid: number; gid: number };
}

export interface WorkspaceVolume {
  name: string;
  /**
   * The seeding container's removal, left to finish while the first step starts (it takes as
   * long as a step's own remove); destroyRun awaits it before it removes the run by label.
   */
  seedRemoved: Promise<void>;
}

export async function createWorkspaceVolume(docker: Docker, seed: WorkspaceSeed): Promise<WorkspaceVolume> {
  const name = workspaceVolumeName(seed.runId);
  try {
    await docker.createVolume({ Name: name, Labels: runLabels(seed.runId, 'workspace') });
  } catch (error) {
    throw dockerFailure('GBCMS_ERR_DOCKER', `could not create the workspace volume`, error);
  }
  let container: Docker.Container | undefined;
  let seedRemoved = Promise.resolve();
  try {
    container = await docker.createContainer(seedContainerOptions(seed.runId, seed.image, name));
    const prefix = WORKSPACE_PATH.slice(1);
    const append = (pack: Pack) => addReportsFolder(pack, prefix, seed.owner);
    await container.putArchive(packWorkspace(seed.source, seed.files, { ...seed.owner, prefix, append }), {
      path: '/',
    });
  } catch (error) {
    throw dockerFailure('GBCMS_ERR_WORKSPACE', `could not copy the workspace into Docker`, error);
  } finally {
    // A failed remove is not the run's problem: destroyRun finds the container by label.
    if (container)
      seedRemoved = container.remove({ force: true }).then(
        () => undefined,
        () => undefined,
      );
  }
  return { name, seedRemoved };
}
