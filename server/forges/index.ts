// The forge status reporter as `gbcms serve` sets it up: a poster per forge that has an API
// address, the run page as each status's link, tokens from ForgeTokens.
import { links } from '../routes/links.ts';
import type { Store } from '../store/index.ts';
import { giteaPoster, githubPoster, gitlabPoster, type StatusPoster } from './posters.ts';
import { StatusReporter, type StatusReporterOptions } from './status-reporter.ts';
import type { ForgeTokens } from './tokens.ts';

export { type CommitStatus, commitStatus, statusContext, stepStatusContext } from './commit-status.ts';
export { ForgePostError, giteaPoster, githubPoster, gitlabPoster, type StatusPoster } from './posters.ts';
export { StatusReporter, type StatusReporterOptions } from './status-reporter.ts';
export { envForgeTokens, type ForgeTokens, secretForgeTokens, TOKEN_SECRET_NAMES } from './tokens.ts';

export interface ForgeUrls {
  /** GitHub's REST API; GitHub Enterprise's is `https://<host>/api/v3`. */
  githubApi?: string;
  /** A Gitea or Forgejo site; statuses to Gitea are posted only when it is set. */
  gitea?: string;
  /** A GitLab site; statuses to GitLab are posted only when it is set. */
  gitlab?: string;
}

export interface ForgeReporterSetup {
  store: Pick<Store, 'forges' | 'projects' | 'statusSettings'>;
  tokens: ForgeTokens;
  /** Without one, statuses carry no link: a relative one means nothing on the forge. */
  publicUrl: string | undefined;
  urls: ForgeUrls;
  notice: StatusReporterOptions['notice'];
  logger: StatusReporterOptions['logger'];
  retryDelaysMs?: readonly number[];
}

export function forgeStatusReporter(setup: ForgeReporterSetup): StatusReporter {
  const posters: StatusReporterOptions['posters'] = { github: githubPoster(setup.urls.githubApi) };
  if (setup.urls.gitea) posters.gitea = giteaPoster(setup.urls.gitea);
  if (setup.urls.gitlab) posters.gitlab = gitlabPoster(setup.urls.gitlab);
  const base = setup.publicUrl?.replace(/\/+$/, '');
  const pages = base ? links(base) : undefined;
  return new StatusReporter({
    store: setup.store,
    tokens: setup.tokens,
    posters: posters as Partial<Record<keyof typeof posters, StatusPoster>>,
    executionPage: (id) => pages?.executionPage(id),
    notice: setup.notice,
    logger: setup.logger,
    ...(setup.retryDelaysMs ? { retryDelaysMs: setup.retryDelaysMs } : {}),
  });
}
