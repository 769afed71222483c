// The notification gbcms's post-receive hook sends for each updated ref (see server/cli/hook.ts),
// and what it asks the server to do.
import { isObjectId, isZeroObjectId } from '../git/ref-name.ts';
import { asObject, stringAt } from './payload.ts';
import { classifyRef, quote } from './ref.ts';
import type { WebhookDecision } from './types.ts';

/** The JSON body, signed with the project's secret in the X-Gbcms-Signature-256 header. */
export interface GitPushNotification {
  /** Full ref name, `refs/heads/main`. */
  ref: string;
  /** The ref's previous commit; all zeros when the push created it. */
  before: string;
  /** The ref's new commit; all zeros when the push deleted it. */
  after: string;
  /** Absolute path of the repository the hook ran in. */
  repository: string;
  /** Who pushed, as the server hosting the repository knows them ($GIT_PUSHER or $USER). */
  pusher: string;
  /**
   * This ref's update in this push: the same in a notification sent again, different in the
   * next push even of the same commits (see gitDeliveryId). Absent from older hooks.
   */
  delivery?: string;
}

/** The notification's delivery id, when it has a well-formed one (64 hex digits). */
export function gitDeliveryId(payload: unknown): string | undefined {
  const delivery = stringAt(asObject(payload), 'delivery');
  return delivery !== undefined && /^[0-9a-f]{64}$/.test(delivery) ? delivery : undefined;
}

/**
 * Branch pushes become `push`, tags `tag`; deletions and other refs are ignored. Never throws:
 * a body that does not have the shape above is ignored with the reason.
 */
export function interpretGitNotification(payload: unknown): WebhookDecision {
  const body = asObject(payload);
  if (!body) return ignore('notification is not a JSON object');
  const ref = stringAt(body, 'ref');
  const before = stringAt(body, 'before');
  const after = stringAt(body, 'after');
  if (ref === undefined) return ignore("notification has no 'ref'");
  if (before === undefined || !isObjectId(before))
    return ignore("notification has no valid 'before' commit id");
  if (after === undefined || !isObjectId(after)) return ignore("notification has no valid 'after' commit id");
  for (const key of ['repository', 'pusher']) {
    if (key in body && typeof body[key] !== 'string')
      return ignore(`notification's '${key}' is not a string`);
  }
  if (isZeroObjectId(after)) return ignore(`${quote(ref)} was deleted`);

  const target = classifyRef(ref);
  if ('problem' in target) return ignore(target.problem);
  return {
    kind: 'trigger',
    trigger:
      target.event === 'push'
        ? { event: 'push', branch: target.branch, commit: after }
        : { event: 'tag', tag: target.tag, commit: after },
  };
}

function ignore(reason: string): WebhookDecision {
  return { kind: 'ignore', reason };
}
