// The run's shared workspace: a labelled volume filled from the host through a container that
// is created and never started. The tar's root entry (`workspace/`, owned by the step user)
// is what hands the volume's root to that user; putArchive into `/` needs a writable rootfs,
// hence this separate, unhardened-but-never-run container.
import type Docker from 'dockerode';
import { listWorkspaceFiles, packWorkspace } from '../../workspace.ts';
import { seedContainerOptions, WORKSPACE_PATH, workspaceVolumeName } from './convert.ts';
import { dockerFailure } from './errors.ts';
import { runLabels } from './labels.ts';
import { reportsFolderArchive } from './step-files.ts';

export interface WorkspaceSeed {
  runId: string;
  /** Host directory the files come from. */
  source: string;
  /** Image id to create the seeding container from: one the run already has. */
  image: string;
  owner: { uid: number; gid: number };
}

export async function createWorkspaceVolume(docker: Docker, seed: WorkspaceSeed): Promise<string> {
  const name = workspaceVolumeName(seed.runId);
  try {
    await docker.createVolume({ Name: name, Labels: runLabels(seed.runId, 'workspace') });
  } catch (error) {
    throw dockerFailure('GBCMS_ERR_DOCKER', `could not create the workspace volume`, error);
  }
  const files = await listWorkspaceFiles(seed.source);
  let container: Docker.Container | undefined;
  try {
    container = await docker.createContainer(seedContainerOptions(seed.runId, seed.image, name));
    const prefix = WORKSPACE_PATH.slice(1);
    await container.putArchive(packWorkspace(seed.source, files, { ...seed.owner, prefix }), { path: '/' });
    await container.putArchive(reportsFolderArchive(prefix, seed.owner), { path: '/' });
  } catch (error) {
    throw dockerFailure('GBCMS_ERR_WORKSPACE', `could not copy the workspace into Docker`, error);
  } finally {
    // A failed remove is not the run's problem: destroyRun finds the container by label.
    if (container) await container.remove({ force: true }).catch(() => undefined);
  }
  return name;
}
