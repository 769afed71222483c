// One commit-status call per forge: the HTTP request and nothing else (retries, order and
// reporting failures are the reporter's). GitHub goes through @octokit/rest; Gitea/Forgejo and
// GitLab through fetch, their APIs being one documented POST each.
import { Octokit } from '@octokit/rest';
import type { ForgeTarget } from '../store/index.ts';
import type { CommitStatus } from './commit-status.ts';

export interface StatusPoster {
  /** Resolves once the forge accepted the status; throws a ForgePostError otherwise (or once `signal` aborts). */
  post(
    target: ForgeTarget,
    sha: string,
    status: CommitStatus,
    token: string,
    signal?: AbortSignal,
  ): Promise<void>;
}

export class ForgePostError extends Error {
  constructor(
    message: string,
    /** The HTTP status, when the forge answered at all. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ForgePostError';
  }

  /** For notices and logs: `HTTP 422: <what the forge said>`. */
  get summary(): string {
    return this.status === undefined ? this.message : `HTTP ${this.status}: ${this.message}`;
  }

  /** Worth another try: no answer, the forge's own trouble, or a rate limit. Not a refusal. */
  get retryable(): boolean {
    return this.status === undefined || this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

const SILENT = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** GitHub or GitHub Enterprise (`https://<host>/api/v3`). */
export function githubPoster(baseUrl = 'https://api.github.com'): StatusPoster {
  return {
    async post(target, sha, status, token, signal) {
      const [owner, repo] = splitRepo(target.repo);
      // No retry or throttling plugin: @octokit/rest has none unless added, and retries are the reporter's.
      // Its own request log would go to the console: failures are the reporter's to tell.
      const octokit = new Octokit({ auth: token, baseUrl, userAgent: 'gbcms', log: SILENT });
      try {
        await octokit.repos.createCommitStatus({
          owner,
          repo,
          sha,
          state: status.state as 'error' | 'failure' | 'pending' | 'success',
          ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
          description: status.description,
          context: status.context,
          ...(signal ? { request: { signal } } : {}),
        });
      } catch (error) {
        const code = (error as { status?: unknown }).status;
        throw new ForgePostError(errorText(error), typeof code === 'number' && code > 0 ? code : undefined);
      }
    },
  };
}

/** Gitea or Forgejo at `baseUrl` (the site, without /api/v1). */
export function giteaPoster(baseUrl: string): StatusPoster {
  return {
    async post(target, sha, status, token, signal) {
      const [owner, repo] = splitRepo(target.repo);
      const url = `${trimSlash(baseUrl)}/api/v1/repos/${enc(owner)}/${enc(repo)}/statuses/${enc(sha)}`;
      await postJson(
        url,
        { authorization: `token ${token}` },
        {
          state: status.state,
          ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
          description: status.description,
          context: status.context,
        },
        signal,
      );
    },
  };
}

/** GitLab at `baseUrl` (the site, without /api/v4); the target's repo is the numeric project id. */
export function gitlabPoster(baseUrl: string): StatusPoster {
  return {
    async post(target, sha, status, token, signal) {
      const url = `${trimSlash(baseUrl)}/api/v4/projects/${enc(target.repo)}/statuses/${enc(sha)}`;
      await postJson(
        url,
        { 'private-token': token },
        {
          state: status.state,
          name: status.context,
          ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
          description: status.description,
        },
        signal,
      );
    },
  };
}

async function postJson(
  url: string,
  headers: Record<string, string>,
  body: object,
  signal: AbortSignal | undefined,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      redirect: 'error',
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    throw new ForgePostError(errorText(error));
  }
  // The body says why, but may be large or echo the request: a status line is enough.
  await response.body?.cancel();
  if (!response.ok) throw new ForgePostError(response.statusText || 'refused', response.status);
}

function splitRepo(repo: string): [string, string] {
  const slash = repo.indexOf('/');
  if (slash <= 0 || slash === repo.length - 1)
    throw new ForgePostError(`not an owner/name repository: ${repo}`, 400);
  return [repo.slice(0, slash), repo.slice(slash + 1)];
}

function enc(part: string): string {
  return encodeURIComponent(part);
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}
