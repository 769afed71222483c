// Caches for the local backend: a folder per key below $XDG_CACHE_HOME/gbcms (~/.cache/gbcms),
// copied into the scratch workspace before the step and back after it succeeds. Copies rather
// than mounts, so it works the same with and without bubblewrap, and a failed step never
// leaves a half-written cache behind.
import { randomBytes } from 'node:crypto';
import { cp, lstat, mkdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** The container home a Docker step sees; absolute cache paths below it map to the local home. */
const CONTAINER_HOME = '/home/gbcms';

export function localCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg?.startsWith('/') ? xdg : join(homedir(), '.cache'), 'gbcms');
}

/**
 * Where a cache path lives for a local step: in the scratch workspace, or in the step's home
 * for `/home/gbcms/...`; undefined for other absolute paths, which a host process cannot own.
 */
export function localCacheTarget(
  path: string,
  dirs: { workspace: string; home: string },
): string | undefined {
  if (!path.startsWith('/')) return join(dirs.workspace, path);
  if (path.startsWith(`${CONTAINER_HOME}/`)) return join(dirs.home, path.slice(CONTAINER_HOME.length + 1));
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** The cache replaces whatever the workspace had at the target, as a mounted volume would. */
export async function restoreCache(cacheDir: string, target: string): Promise<void> {
  await rm(target, { recursive: true, force: true });
  if (await exists(cacheDir)) {
    await cp(cacheDir, target, { recursive: true, verbatimSymlinks: true });
  } else {
    await mkdir(target, { recursive: true });
  }
}

/** Copied aside, then swapped in by rename, so a reader never sees half a cache. */
export async function saveCache(target: string, cacheDir: string): Promise<void> {
  if (!(await exists(target))) return;
  const staging = `${cacheDir}.tmp-${randomBytes(6).toString('hex')}`;
  await mkdir(dirname(cacheDir), { recursive: true });
  try {
    await cp(target, staging, { recursive: true, verbatimSymlinks: true });
    await rm(cacheDir, { recursive: true, force: true });
    await rename(staging, cacheDir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
