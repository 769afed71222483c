// Cache volumes: one named volume per cache key, kept between runs. A fresh volume's root is
// owned by root, so the first run that creates it hands it to the step user the way the
// workspace is seeded: a tar whose root entry is the mount point, put into a container that is
// created and never started.
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import tarStream from 'tar-stream';
import type { PlannedStep } from '../../plan.ts';
import type { RunInputs, StepCache } from '../types.ts';
import {
  CACHE_SEED_PATH,
  type CacheMount,
  cacheSeedContainerOptions,
  cacheVolumeName,
  cacheVolumeOptions,
  parseOwner,
} from './convert.ts';
import { dockerFailure, isNotFound } from './errors.ts';

export interface CacheVolumeSeed {
  runId: string;
  cache: StepCache;
  /** Image id to create the seeding container from: one the run already has. */
  image: string;
  owner: { uid: number; gid: number };
}

function rootEntryArchive(owner: { uid: number; gid: number }): Readable {
  const pack = tarStream.pack();
  pack.entry({ name: `${CACHE_SEED_PATH.slice(1)}/`, type: 'directory', mode: 0o755, ...owner });
  pack.finalize();
  return Readable.from(pack, { objectMode: false });
}

async function volumeExists(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getVolume(name).inspect();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw dockerFailure('GBCMS_ERR_DOCKER', `could not inspect the cache volume ${name}`, error);
  }
}

/** The cache volume's name, after creating it (owned by the step user) when it did not exist. */
export async function ensureCacheVolume(docker: Docker, seed: CacheVolumeSeed): Promise<string> {
  const name = cacheVolumeName(seed.cache.key);
  if (await volumeExists(docker, name)) return name;
  let container: Docker.Container | undefined;
  try {
    await docker.createVolume(cacheVolumeOptions(seed.cache));
    container = await docker.createContainer(cacheSeedContainerOptions(seed.runId, seed.image, name));
    await container.putArchive(rootEntryArchive(seed.owner), { path: '/' });
  } catch (error) {
    throw dockerFailure('GBCMS_ERR_DOCKER', `could not prepare the cache volume ${name}`, error);
  } finally {
    if (container) await container.remove({ force: true }).catch(() => undefined);
  }
  return name;
}

/** One after another: matrix steps share their caches, and a volume is prepared once. */
export async function ensureStepCaches(
  docker: Docker,
  runId: string,
  steps: readonly PlannedStep[],
  inputs: RunInputs,
  imageOf: (step: PlannedStep) => string,
): Promise<Map<string, CacheMount[]>> {
  const caches = new Map<string, CacheMount[]>();
  for (const step of steps) {
    const stepCaches = inputs.caches.get(step.name);
    if (stepCaches === undefined) continue;
    const mounts: CacheMount[] = [];
    for (const cache of stepCaches) {
      const volume = await ensureCacheVolume(docker, {
        runId,
        cache,
        image: imageOf(step),
        owner: parseOwner(step.environment.user),
      });
      mounts.push({ volume, path: cache.path });
    }
    caches.set(step.name, mounts);
  }
  return caches;
}
