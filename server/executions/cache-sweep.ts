// The cache half of the retention sweep. A cache goes when no key can reach it any more, or
// when its project holds more than its budget:
// - every cache of a project that was deleted;
// - in each slot (one scope's pipeline, step and path), every key but the one used last: the
//   key files changed since, so a run would compute the newer key;
// - then, while a project's caches together pass the budget, the least recently used.
// A cache a step uses now is never removed (the backend refuses, and the sweep skips it).
// Only scopes the server made (`project:<id>...`, cache-scope.ts) are looked at: caches of a
// `gbcms run` on the same Docker engine belong to someone else.
import type { CacheStore, KeptCache } from '../../engine/backends/types.ts';
import type { Store } from '../store/index.ts';
import { projectOfCacheScope } from './cache-scope.ts';
import type { ExecutionLogger } from './logger.ts';

/** Bytes a project's caches may hold together, unless the server is told otherwise. */
export const DEFAULT_CACHE_BUDGET_BYTES = 5 * 1024 ** 3;

export interface CacheSweepOptions {
  store: Pick<Store, 'caches'>;
  caches: CacheStore;
  /** Per project, over every scope (its own and its forks'). */
  budgetBytes: number;
  logger: ExecutionLogger;
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

/** What to remove and why, from what the backend keeps: pure, so the rules are testable alone. */
export function planCacheRemovals(
  candidates: readonly Candidate[],
  existingProjects: ReadonlySet<string>,
  budgetBytes: number,
): Array<{ cache: Candidate; why: string }> {
  const removals: Array<{ cache: Candidate; why: string }> = [];
  const kept: Candidate[] = [];
  for (const cache of candidates) {
    if (!existingProjects.has(cache.projectId)) removals.push({ cache, why: 'its project was deleted' });
    else kept.push(cache);
  }
  const reachable: Candidate[] = [];
  for (const slot of groupBy(kept, (c) => `${c.scope}\0${c.slot}`).values()) {
    const [newest, ...older] = slot.sort(byRecentFirst);
    if (newest) reachable.push(newest);
    for (const cache of older) {
      if (cache.inUse) reachable.push(cache);
      else removals.push({ cache, why: 'a newer key of its slot replaced it' });
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
  const existing = await store.caches.existingProjects([...new Set(candidates.map((c) => c.projectId))]);
  const removed: string[] = [];
  for (const { cache, why } of planCacheRemovals(candidates, existing, options.budgetBytes)) {
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
