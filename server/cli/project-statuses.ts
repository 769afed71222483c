// `gbcms project set`: a project's commit-status settings from the command line (per-step
// statuses, the forge repository a git-hook project's pushes report to), with the rules the
// API and the project page use.
import { FORGE_REPO_FORMS } from '../forges/forge-repo.ts';
import { changeStatusSettings, type StatusSettingsChange } from '../forges/status-settings.ts';
import { FORGES, type Forge, type Project, type StatusSettings, type Store } from '../store/index.ts';
import { CommandError, UsageError } from './data-commands.ts';

export const PROJECT_SET_HELP = `  set PROJECT [--step-statuses on|off] [--forge github|gitea|gitlab|none] [--forge-repo R]
                    commit statuses: one per step too (on), and where pushes through the
                    plain git hook report (R: ${FORGE_REPO_FORMS.github}; on GitLab ${FORGE_REPO_FORMS.gitlab})`;

export interface StatusOptionValues {
  'step-statuses'?: string | undefined;
  forge?: string | undefined;
  'forge-repo'?: string | undefined;
}

/** The change the options ask for; a UsageError for a value no setting takes. */
export function statusChangeOf(values: StatusOptionValues): StatusSettingsChange {
  const change: StatusSettingsChange = {};
  const steps = values['step-statuses'];
  if (steps !== undefined) {
    if (steps !== 'on' && steps !== 'off') {
      throw new UsageError(`--step-statuses must be on or off, not '${steps}'`);
    }
    change.step_statuses = steps === 'on';
  }
  if (values.forge !== undefined) {
    const forge = values.forge === 'none' ? null : FORGES.find((f) => f === values.forge);
    if (forge === undefined) {
      throw new UsageError(`--forge must be ${FORGES.join(', ')} or none, not '${values.forge}'`);
    }
    change.forge = forge as Forge | null;
  }
  if (values['forge-repo'] !== undefined) change.forge_repo = values['forge-repo'];
  if (Object.keys(change).length === 0) {
    throw new UsageError('give --step-statuses, --forge or --forge-repo');
  }
  return change;
}

export async function setStatusSettings(
  store: Store,
  project: Project,
  change: StatusSettingsChange,
): Promise<StatusSettings> {
  const result = changeStatusSettings(await store.statusSettings.get(project.id), change);
  if ('problem' in result) throw new CommandError(result.problem);
  await store.statusSettings.set(project.id, result.settings);
  return result.settings;
}

/** `key: value` rows for `gbcms project show`. */
export function statusSettingsRows(settings: StatusSettings): [string, string][] {
  const forge = settings.git_hook_forge;
  return [
    ['step statuses', settings.step_statuses ? 'on' : 'off'],
    ['git hook forge', forge ? `${forge.forge} ${forge.repo}` : 'none'],
  ];
}
