// The Docker backend's caches as a sweep sees them: the labelled cache volumes, with the size
// and reference count Docker's disk-usage endpoint computes. A volume mounted by a container
// (running or not) counts as in use, and Docker itself refuses to remove it, so a sweep racing
// a run that just mounted one cannot take it away.
import type Docker from 'dockerode';
import type { CacheStore, KeptCache } from '../types.ts';
import { cacheVolumeName } from './convert.ts';
import { dockerFailure, isNotFound, statusCode } from './errors.ts';
import { LABEL_CACHE, LABEL_CACHE_KEY, LABEL_CACHE_SCOPE, LABEL_CACHE_SLOT } from './labels.ts';

interface DiskUsageVolume {
  Name: string;
  Labels?: Record<string, string> | null;
  CreatedAt?: string;
  UsageData?: { Size: number; RefCount: number } | null;
}

export class DockerCacheStore implements CacheStore {
  constructor(private readonly docker: Docker) {}

  async list(): Promise<KeptCache[]> {
    let volumes: DiskUsageVolume[];
    try {
      volumes = ((await this.docker.df()) as { Volumes?: DiskUsageVolume[] | null }).Volumes ?? [];
    } catch (error) {
      throw dockerFailure('GBCMS_ERR_DOCKER', 'could not list the cache volumes', error);
    }
    const caches: KeptCache[] = [];
    for (const volume of volumes) {
      const labels = volume.Labels ?? {};
      const key = labels[LABEL_CACHE_KEY];
      const scope = labels[LABEL_CACHE_SCOPE];
      const slot = labels[LABEL_CACHE_SLOT];
      // Volumes of older gbcms versions have no scope: nothing can reach them, nor name them here.
      if (labels[LABEL_CACHE] !== 'true' || !key || !scope || !slot) continue;
      if (volume.Name !== cacheVolumeName(key)) continue;
      const usage = volume.UsageData;
      caches.push({
        key,
        scope,
        slot,
        sizeBytes: usage && usage.Size > 0 ? usage.Size : 0,
        inUse: usage ? usage.RefCount !== 0 : true,
        createdAt: volume.CreatedAt ?? new Date(0).toISOString(),
      });
    }
    return caches;
  }

  async remove(key: string): Promise<boolean> {
    try {
      await this.docker.getVolume(cacheVolumeName(key)).remove();
      return true;
    } catch (error) {
      if (isNotFound(error)) return true;
      // 409: a container uses it.
      if (statusCode(error) === 409) return false;
      throw dockerFailure(
        'GBCMS_ERR_DOCKER',
        `could not remove the cache volume ${cacheVolumeName(key)}`,
        error,
      );
    }
  }
}
