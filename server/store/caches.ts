// Cache uses: the last time an execution of a project used each cache key, which orders the
// cache sweep's removals (least recently used first) within a project's budget.
import type { RepoContext } from './context.ts';

export interface CacheUse {
  key: string;
  projectId: string;
  scope: string;
  slot: string;
}

export interface CacheRepo {
  /** Notes that an execution of the project uses the cache now. */
  touch(use: CacheUse): Promise<void>;
  /** Last use (ISO 8601) by key, for every key used. */
  lastUses(): Promise<Map<string, string>>;
  /** Forgets removed caches. */
  forget(keys: readonly string[]): Promise<void>;
  /** Which of `ids` are projects that still exist. */
  existingProjects(ids: readonly string[]): Promise<Set<string>>;
}

export function cacheRepo({ db, now }: RepoContext): CacheRepo {
  return {
    async touch(use) {
      const row = {
        key: use.key,
        project_id: use.projectId,
        scope: use.scope,
        slot: use.slot,
        last_used_at: now(),
      };
      await db
        .insertInto('cache_uses')
        .values(row)
        .onConflict((oc) => oc.column('key').doUpdateSet({ last_used_at: row.last_used_at }))
        .execute();
    },

    async lastUses() {
      const rows = await db.selectFrom('cache_uses').select(['key', 'last_used_at']).execute();
      return new Map(rows.map((r) => [r.key, r.last_used_at]));
    },

    async forget(keys) {
      if (keys.length === 0) return;
      await db
        .deleteFrom('cache_uses')
        .where('key', 'in', [...keys])
        .execute();
    },

    async existingProjects(ids) {
      if (ids.length === 0) return new Set();
      const rows = await db
        .selectFrom('projects')
        .select('id')
        .where('id', 'in', [...ids])
        .execute();
      return new Set(rows.map((r) => r.id));
    },
  };
}
