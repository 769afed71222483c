// Maps a verified GitHub delivery (X-GitHub-Event name + parsed JSON body) to what the server
// should do. Pure. A valid signature only proves who sent the body, not that it has the shape
// GitHub documents, so every field is checked by hand and a bad one means "ignore", never a throw.
import { isObjectId, isZeroObjectId, refNameProblem } from '../git/ref-name.ts';
import { asObject, type JsonObject, objectAt, stringAt, stringsAt } from './payload.ts';
import { classifyRef, quote } from './ref.ts';
import type { WebhookDecision, WebhookTrigger } from './types.ts';

/** GitHub lists at most this many commits in a push; a list that long may be cut short. */
export const GITHUB_PUSH_COMMIT_LIMIT = 2048;

const PULL_REQUEST_ACTIONS = new Set(['opened', 'synchronize', 'reopened']);

export function interpretGithubEvent(name: string, payload: unknown): WebhookDecision {
  switch (name) {
    case 'ping':
      return { kind: 'ping' };
    case 'push':
      return interpretPush(asObject(payload));
    case 'pull_request':
      return interpretPullRequest(asObject(payload));
    default:
      return ignore(`GitHub event ${quote(name)} does not start executions`);
  }
}

function interpretPush(push: JsonObject | undefined): WebhookDecision {
  if (!push) return ignore('push payload is not a JSON object');
  const ref = stringAt(push, 'ref');
  const after = stringAt(push, 'after');
  if (ref === undefined) return ignore("push payload has no 'ref'");
  if (push.deleted === true || (after !== undefined && isZeroObjectId(after))) {
    return ignore(`${quote(ref)} was deleted`);
  }
  if (after === undefined || !isObjectId(after)) return ignore("push payload has no valid 'after' commit id");
  const target = classifyRef(ref);
  if ('problem' in target) return ignore(target.problem);

  const head = objectAt(push, 'head_commit');
  return trigger({
    ...(target.event === 'push'
      ? { event: 'push', branch: target.branch }
      : { event: 'tag', tag: target.tag }),
    commit: after,
    author: stringAt(objectAt(head, 'author'), 'name'),
    message: stringAt(head, 'message'),
    changedPaths: pushChangedPaths(push),
    cloneUrl: stringAt(objectAt(push, 'repository'), 'clone_url'),
  });
}

/**
 * The union of the listed commits' added, modified and removed files. Undefined (unknown)
 * when the list may be cut short, is malformed, or is empty: a new branch or tag on existing
 * commits and a forced push back to an older commit list none, yet may well change files.
 */
function pushChangedPaths(push: JsonObject): string[] | undefined {
  const commits = push.commits;
  if (!Array.isArray(commits) || commits.length === 0 || commits.length >= GITHUB_PUSH_COMMIT_LIMIT)
    return undefined;
  const paths = new Set<string>();
  for (const item of commits) {
    const commit = asObject(item);
    for (const key of ['added', 'modified', 'removed']) {
      const listed = stringsAt(commit, key);
      if (!listed) return undefined;
      for (const path of listed) paths.add(path);
    }
  }
  return [...paths];
}

function interpretPullRequest(event: JsonObject | undefined): WebhookDecision {
  if (!event) return ignore('pull_request payload is not a JSON object');
  const action = stringAt(event, 'action');
  if (action === undefined) return ignore("pull_request payload has no 'action'");
  if (!PULL_REQUEST_ACTIONS.has(action))
    return ignore(`pull_request action ${quote(action)} does not start executions`);
  const pr = objectAt(event, 'pull_request');
  if (!pr) return ignore("pull_request payload has no 'pull_request' object");
  const number = event.number ?? pr.number;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) {
    return ignore('pull_request payload has no valid pull request number');
  }
  const head = objectAt(pr, 'head');
  const branch = stringAt(head, 'ref');
  const sha = stringAt(head, 'sha');
  if (branch === undefined) return ignore("pull_request payload has no 'head.ref'");
  const problem = refNameProblem(branch);
  if (problem) return ignore(`head branch ${quote(branch)} ${problem}`);
  if (sha === undefined || !isObjectId(sha)) return ignore("pull_request payload has no valid 'head.sha'");

  // A deleted fork leaves head.repo null: with no name to compare, it counts as a fork.
  const headRepo = stringAt(objectAt(head, 'repo'), 'full_name');
  const baseRepo = stringAt(objectAt(objectAt(pr, 'base'), 'repo'), 'full_name');
  const fork = headRepo === undefined || baseRepo === undefined || headRepo !== baseRepo;

  return trigger({
    event: 'pull_request',
    branch,
    commit: sha,
    author: stringAt(objectAt(pr, 'user'), 'login'),
    message: stringAt(pr, 'title'),
    // null when the fork was deleted; the commit is then still at refs/pull/N/head of the base.
    cloneUrl: stringAt(objectAt(head, 'repo'), 'clone_url'),
    prNumber: number,
    fork,
  });
}

/**
 * The repository the delivery came from, `owner/name`, where its commit statuses go (for a
 * pull request the base repository: GitHub shows statuses of the head commit posted there).
 */
export function githubRepository(payload: unknown): string | undefined {
  const name = stringAt(objectAt(asObject(payload), 'repository'), 'full_name');
  return name !== undefined && /^[\w.-]+\/[\w.-]+$/.test(name) ? name : undefined;
}

function trigger(fields: WebhookTrigger): WebhookDecision {
  return { kind: 'trigger', trigger: withoutUndefined(fields) };
}

/** Absent rather than undefined, so a trigger serializes and compares as it reads. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

function ignore(reason: string): WebhookDecision {
  return { kind: 'ignore', reason };
}
