// Maps a verified Gitea or Forgejo delivery (X-Gitea-Event / X-Forgejo-Event + parsed JSON) to
// what the server should do. Pure, never throws: a field of the wrong shape means "ignore".
// Gitea's push and pull_request payloads follow GitHub's field names
// (https://docs.gitea.com/usage/webhooks); the differences are the `synchronized` action, no
// `deleted` flag (deletions come as `delete` events, or a push to the zero id), and
// `total_commits`, which says whether `commits` is the whole list.
import { isObjectId, isZeroObjectId, refNameProblem } from '../git/ref-name.ts';
import { listedChangedPaths } from './changed-paths.ts';
import { ignore, trigger } from './decision.ts';
import { asObject, type JsonObject, objectAt, stringAt } from './payload.ts';
import { classifyRef, quote } from './ref.ts';
import type { WebhookDecision } from './types.ts';

const PULL_REQUEST_ACTIONS = new Set(['opened', 'synchronized', 'reopened']);

export function interpretGiteaEvent(name: string, payload: unknown): WebhookDecision {
  switch (name) {
    case 'push':
      return interpretPush(asObject(payload));
    case 'pull_request':
      return interpretPullRequest(asObject(payload));
    default:
      return ignore(`Gitea event ${quote(name)} does not start executions`);
  }
}

/** The repository statuses go to, `owner/name` (for a pull request: the base). */
export function giteaRepository(payload: unknown): string | undefined {
  const name = stringAt(objectAt(asObject(payload), 'repository'), 'full_name');
  return name !== undefined && /^[\w.-]+\/[\w.-]+$/.test(name) ? name : undefined;
}

function interpretPush(push: JsonObject | undefined): WebhookDecision {
  if (!push) return ignore('push payload is not a JSON object');
  const ref = stringAt(push, 'ref');
  const after = stringAt(push, 'after');
  if (ref === undefined) return ignore("push payload has no 'ref'");
  if (after !== undefined && isZeroObjectId(after)) return ignore(`${quote(ref)} was deleted`);
  if (after === undefined || !isObjectId(after)) return ignore("push payload has no valid 'after' commit id");
  const target = classifyRef(ref);
  if ('problem' in target) return ignore(target.problem);

  const commits = push.commits;
  const total = push.total_commits;
  // Gitea lists at most its PAYLOAD_COMMIT_LIMIT commits; total_commits says how many there were.
  const complete = Array.isArray(commits) && (total === undefined || total === commits.length);
  const head = objectAt(push, 'head_commit');
  return trigger({
    ...(target.event === 'push'
      ? { event: 'push', branch: target.branch }
      : { event: 'tag', tag: target.tag }),
    commit: after,
    author: stringAt(objectAt(head, 'author'), 'name'),
    message: stringAt(head, 'message'),
    changedPaths: listedChangedPaths(commits, complete),
    cloneUrl: stringAt(objectAt(push, 'repository'), 'clone_url'),
  });
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
  const headRepo = stringAt(objectAt(head, 'repo'), 'full_name');
  const baseRepo = stringAt(objectAt(objectAt(pr, 'base'), 'repo'), 'full_name');

  return trigger({
    event: 'pull_request',
    branch,
    commit: sha,
    author: stringAt(objectAt(pr, 'user'), 'login'),
    message: stringAt(pr, 'title'),
    cloneUrl: stringAt(objectAt(head, 'repo'), 'clone_url'),
    prNumber: number,
    ...(headRepo !== undefined && baseRepo !== undefined && headRepo !== baseRepo ? { fork: true } : {}),
  });
}
