// A project's commit-status settings (see migration 007): per-step statuses, and the forge
// repository the plain git hook's pushes report to. A project without a row has the defaults.
import type { RepoContext } from './context.ts';
import type { ForgeTarget } from './forges.ts';

export interface StatusSettings {
  /** Each step gets a status of its own besides the execution's. */
  step_statuses: boolean;
  /** Where pushes notified by the plain git hook report their statuses; null: nowhere. */
  git_hook_forge: ForgeTarget | null;
}

export const DEFAULT_STATUS_SETTINGS: StatusSettings = { step_statuses: false, git_hook_forge: null };

export interface StatusSettingsRepo {
  get(projectId: string): Promise<StatusSettings>;
  /** Replaces them all. */
  set(projectId: string, settings: StatusSettings): Promise<void>;
}

export function statusSettingsRepo({ db, now }: RepoContext): StatusSettingsRepo {
  return {
    async get(projectId) {
      const row = await db
        .selectFrom('project_status_settings')
        .selectAll()
        .where('project_id', '=', projectId)
        .executeTakeFirst();
      if (!row) return DEFAULT_STATUS_SETTINGS;
      return {
        step_statuses: row.step_statuses === 1,
        git_hook_forge:
          row.forge !== null && row.forge_repo !== null ? { forge: row.forge, repo: row.forge_repo } : null,
      };
    },

    async set(projectId, settings) {
      const values = {
        step_statuses: settings.step_statuses ? 1 : 0,
        forge: settings.git_hook_forge?.forge ?? null,
        forge_repo: settings.git_hook_forge?.repo ?? null,
        updated_at: now(),
      };
      await db
        .insertInto('project_status_settings')
        .values({ project_id: projectId, ...values })
        .onConflict((oc) => oc.column('project_id').doUpdateSet(values))
        .execute();
    },
  };
}
