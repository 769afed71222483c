// Changing a project's commit-status settings: the same rules for the API, `gbcms project set`
// and the project page's form. Pure; a refusal says which field is wrong and why.
import type { Forge, StatusSettings } from '../store/index.ts';
import { forgeRepoProblem } from './forge-repo.ts';

/** What a caller may change; absent fields keep their value, `forge: null` stops reporting git-hook pushes. */
export interface StatusSettingsChange {
  step_statuses?: boolean;
  forge?: Forge | null;
  forge_repo?: string | null;
}

export type ChangeResult = { settings: StatusSettings } | { field: string; problem: string };

export function changeStatusSettings(current: StatusSettings, change: StatusSettingsChange): ChangeResult {
  const step_statuses = change.step_statuses ?? current.step_statuses;
  const currentForge = current.git_hook_forge;
  if (change.forge === null || (change.forge === undefined && change.forge_repo === null)) {
    if (typeof change.forge_repo === 'string') {
      return { field: 'forge_repo', problem: 'forge_repo needs a forge: give forge too, not null' };
    }
    return { settings: { step_statuses, git_hook_forge: null } };
  }
  const forge = change.forge ?? currentForge?.forge;
  if (change.forge_repo !== undefined && forge === undefined) {
    return { field: 'forge', problem: 'forge_repo needs a forge (github, gitea or gitlab)' };
  }
  if (forge === undefined) return { settings: { step_statuses, git_hook_forge: null } };
  // Another forge's repository would not name the same thing: a new forge needs its repository.
  const repo = change.forge_repo ?? (currentForge?.forge === forge ? currentForge.repo : undefined);
  if (repo === undefined) {
    return { field: 'forge_repo', problem: `forge_repo is required with forge ${forge}` };
  }
  const problem = forgeRepoProblem(forge, repo);
  if (problem) return { field: 'forge_repo', problem: `forge_repo ${problem}` };
  return { settings: { step_statuses, git_hook_forge: { forge, repo } } };
}
