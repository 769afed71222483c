// Maps a verified GitLab delivery (X-Gitlab-Event + parsed JSON) to what the server should do.
// Pure, never throws: a field of the wrong shape means "ignore". Shapes from
// https://docs.gitlab.com/user/project/integrations/webhook_events/ (push, tag and merge
// request events). GitLab's "Test" button sends an ordinary-looking push of the branch head,
// with nothing marking it as a test: it is treated as the push it looks like.
import { isObjectId, isZeroObjectId, refNameProblem } from '../git/ref-name.ts';
import { listedChangedPaths } from './changed-paths.ts';
import { ignore, trigger } from './decision.ts';
import { asObject, type JsonObject, objectAt, stringAt } from './payload.ts';
import { classifyRef, quote } from './ref.ts';
import type { WebhookDecision } from './types.ts';

/** GitLab lists at most this many commits in a push (total_commits_count has the real number). */
export const GITLAB_PUSH_COMMIT_LIMIT = 20;

export function interpretGitlabEvent(name: string, payload: unknown): WebhookDecision {
  switch (name) {
    case 'Push Hook':
    case 'Tag Push Hook':
      return interpretPush(asObject(payload));
    case 'Merge Request Hook':
      return interpretMergeRequest(asObject(payload));
    default:
      return ignore(`GitLab event ${quote(name)} does not start executions`);
  }
}

/**
 * The project statuses go to, as its numeric id (for a merge request: the target project,
 * where GitLab shows the merge request's pipelines).
 */
export function gitlabProject(payload: unknown): string | undefined {
  const body = asObject(payload);
  const id = objectAt(body, 'project')?.id ?? body?.project_id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? String(id) : undefined;
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

  const commits = Array.isArray(push.commits) ? push.commits : [];
  const total = push.total_commits_count;
  const complete = typeof total === 'number' && total === commits.length && total < GITLAB_PUSH_COMMIT_LIMIT;
  const head = commits.map(asObject).find((commit) => stringAt(commit, 'id') === after);
  return trigger({
    ...(target.event === 'push'
      ? { event: 'push', branch: target.branch }
      : { event: 'tag', tag: target.tag }),
    commit: after,
    author: stringAt(objectAt(head, 'author'), 'name') ?? stringAt(push, 'user_name'),
    message: stringAt(head, 'message') ?? stringAt(push, 'message'),
    changedPaths: listedChangedPaths(commits, complete),
    cloneUrl: stringAt(objectAt(push, 'project'), 'git_http_url'),
  });
}

function interpretMergeRequest(event: JsonObject | undefined): WebhookDecision {
  if (!event) return ignore('merge request payload is not a JSON object');
  const mr = objectAt(event, 'object_attributes');
  if (!mr) return ignore("merge request payload has no 'object_attributes'");
  const action = stringAt(mr, 'action');
  if (action === undefined) return ignore("merge request payload has no 'object_attributes.action'");
  // `update` also means a changed title or label; only with `oldrev` did the commits change.
  const newCommits = action === 'open' || action === 'reopen' || (action === 'update' && 'oldrev' in mr);
  if (!newCommits) return ignore(`merge request action ${quote(action)} does not start executions`);
  const number = mr.iid;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) {
    return ignore('merge request payload has no valid iid');
  }
  const branch = stringAt(mr, 'source_branch');
  if (branch === undefined) return ignore("merge request payload has no 'source_branch'");
  const problem = refNameProblem(branch);
  if (problem) return ignore(`source branch ${quote(branch)} ${problem}`);
  const lastCommit = objectAt(mr, 'last_commit');
  const sha = stringAt(lastCommit, 'id');
  if (sha === undefined || !isObjectId(sha))
    return ignore("merge request payload has no valid 'last_commit.id'");
  const source = mr.source_project_id;
  const target = mr.target_project_id;

  return trigger({
    event: 'pull_request',
    branch,
    commit: sha,
    author: stringAt(objectAt(event, 'user'), 'username'),
    message: stringAt(mr, 'title'),
    cloneUrl: stringAt(objectAt(mr, 'source'), 'git_http_url'),
    prNumber: number,
    ...(typeof source === 'number' && typeof target === 'number' && source !== target ? { fork: true } : {}),
  });
}
