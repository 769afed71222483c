// Where the status reporter gets a forge token for a project: the project's secret named
// GITHUB_TOKEN, GITEA_TOKEN or GITLAB_TOKEN (or a global secret of that name), else one
// server-wide token per forge from the server's environment.
import type { SecretVault } from '../secrets/vault.ts';
import type { Forge, Project } from '../store/index.ts';

export interface ForgeTokens {
  /** The token to post statuses with, or undefined when the project has none (nothing is posted). */
  forgeToken(project: Project, forge: Forge): Promise<string | undefined>;
}

/** The project secret each forge's token is looked up under. */
export const TOKEN_SECRET_NAMES: Record<Forge, string> = {
  github: 'GITHUB_TOKEN',
  gitea: 'GITEA_TOKEN',
  gitlab: 'GITLAB_TOKEN',
};

/** `GBCMS_GITHUB_TOKEN` (and GITEA, GITLAB) from the server's environment, for every project. */
export function envForgeTokens(env: NodeJS.ProcessEnv = process.env): ForgeTokens {
  return {
    async forgeToken(_project, forge) {
      const token = env[`GBCMS_${TOKEN_SECRET_NAMES[forge]}`];
      return token === undefined || token === '' ? undefined : token;
    },
  };
}

/** The project's (or the global) secret named for the forge first, then `fallback`. */
export function secretForgeTokens(
  vault: Pick<SecretVault, 'serverValue'>,
  fallback: ForgeTokens,
): ForgeTokens {
  return {
    async forgeToken(project, forge) {
      const stored = await vault.serverValue(project.id, TOKEN_SECRET_NAMES[forge]);
      return stored ?? fallback.forgeToken(project, forge);
    },
  };
}
