// Removal by label: what a run created is found again by its gbcms.run label, so cleanup works
// after a crash, twice, or from two places at once. Containers go first because a volume in
// use cannot be removed. Built images and cache volumes (gbcms.cache) are kept.
import type Docker from 'dockerode';
import { isGoneOrGoing, statusCode } from './errors.ts';
import { LABEL_CACHE, LABEL_MANAGED, LABEL_RUN, labelFilter } from './labels.ts';

async function ignoringGone(work: Promise<unknown>): Promise<boolean> {
  try {
    await work;
    return true;
  } catch (error) {
    if (isGoneOrGoing(error)) return false;
    throw error;
  }
}

/** A volume stays "in use" for a moment while a concurrent remove of its container finishes. */
async function removeVolume(docker: Docker, name: string): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      await docker.getVolume(name).remove();
      return true;
    } catch (error) {
      if (isGoneOrGoing(error)) return false;
      if (statusCode(error) !== 409 || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function removeByFilter(docker: Docker, filters: { label: string[] }): Promise<number> {
  const containers = await docker.listContainers({ all: true, filters });
  const removed = await Promise.all(
    containers.map((c) => ignoringGone(docker.getContainer(c.Id).remove({ force: true, v: false }))),
  );
  const { Volumes: volumes } = await docker.listVolumes({ filters });
  // Caches outlive runs by design; only the run-scoped volumes go.
  const runScoped = (volumes ?? []).filter((v) => v.Labels?.[LABEL_CACHE] !== 'true');
  const removedVolumes = await Promise.all(runScoped.map((v) => removeVolume(docker, v.Name)));
  const networks = await docker.listNetworks({ filters });
  const removedNetworks = await Promise.all(
    networks.map((n) => ignoringGone(docker.getNetwork(n.Id).remove())),
  );
  return [...removed, ...removedVolumes, ...removedNetworks].filter(Boolean).length;
}

/**
 * Ids of the runs that still have containers, volumes or networks here. Cache volumes carry
 * no run label and are not counted.
 */
export async function listRunsWithResources(docker: Docker): Promise<string[]> {
  const filters = { label: [LABEL_RUN] };
  const [containers, volumes, networks] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listVolumes({ filters }),
    docker.listNetworks({ filters }),
  ]);
  const labels = [
    ...containers.map((c) => c.Labels),
    ...(volumes.Volumes ?? []).map((v) => v.Labels),
    ...networks.map((n) => n.Labels),
  ];
  const ids = new Set<string>();
  for (const label of labels) {
    const id = label?.[LABEL_RUN];
    if (id) ids.add(id);
  }
  return [...ids].sort();
}

export async function removeRunResources(docker: Docker, runId: string): Promise<void> {
  await removeByFilter(docker, labelFilter(LABEL_RUN, runId));
}

/**
 * Removes every container, volume and network any gbcms run left, for recovery at startup.
 * Only call it when no other gbcms process shares this engine: it would remove their runs too.
 */
export function removeAllGbcmsResources(docker: Docker): Promise<number> {
  return removeByFilter(docker, labelFilter(LABEL_MANAGED, 'true'));
}
