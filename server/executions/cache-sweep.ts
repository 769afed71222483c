// The cache half of the retention sweep. A cache goes when no key can reach it any more, or
// when its project holds more than its budget:
// - in each slot (one scope's pipeline, step and path), every key but the one used last, once
//   it has not been used for a week: the key files changed since, so a run of that branch
//   computes the newer key. The week is for the other branches: two branches with different
//   lock files each reach their own key, and removing the older at once would make them
//   evict each other's cache on every sweep (GitHub Actions keeps an unused cache as long);
// - then, while a project's caches together pass the budget, the least recently used.
// A cache a step uses now is never removed (the backend refuses, and the sweep skips it).
// Only scopes the server made (`project:<id>...`, cache-scope.ts) of projects its database has
// are looked at. Caches of a `gbcms run` on the same Docker engine belong to someone else, and
// so do those of a project this database does not know: another gbcms server with a database
// of its own may share the engine, and taking a cache for "its project was deleted" wiped that
// server's caches at each of this one's starts.
import type { CacheStore, KeptCache } from '../../engine/backends/types.ts';
import type { Store } from '../store/index.ts';
import { projectOfCacheScope } from './cache-scope.ts';
import type { ExecutionLogger } from './logger.ts';

/** Bytes a project's caches may hold together, unless the server is told otherwise. */
export const DEFAULT_CACHE_BUDGET_BYTES = 5 * 1024 ** 3;
/** How long an older key of a slot is kept after its last use, for branches still on it. */
export const REPLACED_KEY_GRACE_MS = 7 * 24 * 3600 * 1000;

export interface CacheSweepOptions {
  store: Pick<Store, 'caches'>;
  caches: CacheStore;
  /** Per project, over every scope (its own and its forks'). */
  budgetBytes: number;
  logger: ExecutionLogger;
  now: Date;
}

interface Candidate extends KeptCache {
  projectId: string;
  lastUsed: string;
}

function byRecentFirst(a: Candidate, b: Candidate): number {
  return a.lastUsed < b.lastUsed ? 1 : a.lastUsed > b.lastUsed ? -1 : 0;
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/**
 * What to remove and why, from what the backend keeps: pure, so the rules are testable alone.
 * Caches of projects not in `ourProjects` are never removed (see the top of this file).
 */
export function planCacheRemovals(
  candidates: readonly Candidate[],
  ourProjects: ReadonlySet<string>,
  budgetBytes: number,
  now: Date,
): Array<{ cache: Candidate; why: string }> {
  const staleBefore = new Date(now.getTime() - REPLACED_KEY_GRACE_MS).toISOString();
  const removals: Array<{ cache: Candidate; why: string }> = [];
  const kept = candidates.filter((cache) => ourProjects.has(cache.projectId));
  const reachable: Candidate[] = [];
  for (const slot of groupBy(kept, (c) => `${c.scope}\0${c.slot}`).values()) {
    const [newest, ...older] = slot.sort(byRecentFirst);
    if (newest) reachable.push(newest);
    for (const cache of older) {
      if (cache.inUse || new Date(cache.lastUsed).toISOString() > staleBefore) reachable.push(cache);
      else removals.push({ cache, why: 'a newer key of its slot replaced it a week or more ago' });
    }
  }
  for (const project of groupBy(reachable, (c) => c.projectId).values()) {
    let total = project.reduce((sum, c) => sum + c.sizeBytes, 0);
    for (const cache of project.sort(byRecentFirst).reverse()) {
      if (total <= budgetBytes) break;
      if (cache.inUse) continue;
      removals.push({ cache, why: "its project's caches pass the budget; it was used least recently" });
      total -= cache.sizeBytes;
    }
  }
  return removals.filter(({ cache }) => !cache.inUse);
}

/** Removes the caches no key reaches and those over budget; returns how many went. */
export async function sweepCaches(options: CacheSweepOptions): Promise<number> {
  const { store, caches, logger } = options;
  const kept = await caches.list();
  const lastUses = await store.caches.lastUses();
  const candidates: Candidate[] = [];
  for (const cache of kept) {
    const projectId = projectOfCacheScope(cache.scope);
    if (projectId === undefined) continue;
    candidates.push({ ...cache, projectId, lastUsed: lastUses.get(cache.key) ?? cache.createdAt });
  }
  const ours = await store.caches.existingProjects([...new Set(candidates.map((c) => c.projectId))]);
  const removed: string[] = [];
  for (const { cache, why } of planCacheRemovals(candidates, ours, options.budgetBytes, options.now)) {
    try {
      // false: a run mounted it since the listing; it stays.
      if (!(await caches.remove(cache.key))) continue;
      removed.push(cache.key);
      logger.info({ key: cache.key, scope: cache.scope, bytes: cache.sizeBytes, why }, 'removed a cache');
    } catch (error) {
      logger.warn({ err: error, key: cache.key }, 'could not remove a cache');
    }
  }
  await store.caches.forget(removed);
  return removed.length;
}
