// Where the status reporter gets a forge token for a project. The project's encrypted secret
// store is meant to answer this (a project secret named GITHUB_TOKEN, GITEA_TOKEN or
// GITLAB_TOKEN); until it exists, envForgeTokens stands in with one server-wide token per forge.
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

/**
 * TEMPORARY, until project secrets exist: `GBCMS_GITHUB_TOKEN` (and GITEA, GITLAB) from the
 * server's environment, the same token for every project.
 */
export function envForgeTokens(env: NodeJS.ProcessEnv = process.env): ForgeTokens {
  return {
    async forgeToken(_project, forge) {
      const token = env[`GBCMS_${TOKEN_SECRET_NAMES[forge]}`];
      return token === undefined || token === '' ? undefined : token;
    },
  };
}
