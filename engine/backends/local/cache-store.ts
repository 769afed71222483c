// The local backend's caches as a sweep sees them: one folder per key below the cache root,
// with `<key>.json` beside it naming its scope and slot (a folder name alone cannot say whose
// it is). In use means a run of this process has it; a `gbcms run` in another process is not
// seen, so the server's sweep is the only one that removes local caches.
import { lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheStore, KeptCache, StepCache } from '../types.ts';

const META = /^([0-9a-f]{64})\.json$/;

export function cacheMetaFile(root: string, key: string): string {
  return join(root, `${key}.json`);
}

/** Notes whose cache `<root>/<key>` is, once it has been saved. */
export async function writeCacheMeta(root: string, cache: StepCache): Promise<void> {
  const meta = { key: cache.key, scope: cache.scope, slot: cache.slot };
  await writeFile(cacheMetaFile(root, cache.key), `${JSON.stringify(meta)}\n`);
}

/** Bytes below `path`, links counted as themselves, never followed. */
async function sizeOf(path: string): Promise<number> {
  const stats = await lstat(path).catch(() => undefined);
  if (stats === undefined) return 0;
  if (!stats.isDirectory()) return stats.size;
  let total = 0;
  for (const entry of await readdir(path).catch(() => [] as string[]))
    total += await sizeOf(join(path, entry));
  return total;
}

export class LocalCacheStore implements CacheStore {
  constructor(
    private readonly root: () => string,
    private readonly inUse: (key: string) => boolean,
  ) {}

  async list(): Promise<KeptCache[]> {
    const root = this.root();
    const names = await readdir(root).catch(() => [] as string[]);
    const caches: KeptCache[] = [];
    for (const name of names) {
      const key = META.exec(name)?.[1];
      if (key === undefined) continue;
      let meta: { scope?: unknown; slot?: unknown };
      try {
        meta = JSON.parse(await readFile(join(root, name), 'utf8')) as typeof meta;
      } catch {
        continue;
      }
      if (typeof meta.scope !== 'string' || typeof meta.slot !== 'string') continue;
      const stats = await lstat(join(root, key)).catch(() => undefined);
      caches.push({
        key,
        scope: meta.scope,
        slot: meta.slot,
        sizeBytes: await sizeOf(join(root, key)),
        inUse: this.inUse(key),
        createdAt: (stats?.birthtime ?? new Date(0)).toISOString(),
      });
    }
    return caches;
  }

  async remove(key: string): Promise<boolean> {
    if (!/^[0-9a-f]{64}$/.test(key)) return true;
    if (this.inUse(key)) return false;
    const root = this.root();
    await rm(join(root, key), { recursive: true, force: true });
    await rm(cacheMetaFile(root, key), { force: true });
    return true;
  }
}
