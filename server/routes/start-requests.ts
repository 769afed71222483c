// What to ask the execution manager for when a user starts or re-runs an execution (API or
// page form). Pure.
import type { Trigger } from '../../engine/plan.ts';
import { errors } from '../errors.ts';
import type { ExecutionSource } from '../executions/types.ts';
import { refNameProblem } from '../git/ref-name.ts';
import { type Execution, type Project, triggerOf } from '../store/index.ts';
import { classifyRef } from '../webhooks/ref.ts';

export interface StartPlan {
  trigger: Trigger;
  source: ExecutionSource;
}

/**
 * A start through the API: on `ref` (a branch name, or a full `refs/heads/...` or
 * `refs/tags/...`) or the project's default branch, at `commit` or the ref's tip. Without
 * either the project's registered source is used as it is.
 */
export function manualStart(project: Project, request: { ref?: string; commit?: string }): StartPlan {
  const target = request.ref === undefined ? undefined : readRef(request.ref);
  const trigger: Trigger = { event: 'api', ...(target ?? { branch: project.default_branch }) };
  if (request.commit !== undefined) trigger.commit = request.commit;
  if (request.ref === undefined && request.commit === undefined)
    return { trigger, source: { kind: 'project' } };
  const ref = trigger.tag !== undefined ? `refs/tags/${trigger.tag}` : `refs/heads/${trigger.branch}`;
  return {
    trigger,
    source: {
      kind: 'git',
      repo: project.repo,
      ref,
      ...(request.commit !== undefined ? { commit: request.commit } : {}),
    },
  };
}

/** The same trigger again, on the same commit when the original had one. */
export function rerunStart(original: Execution, project: Project): StartPlan {
  const trigger = triggerOf(original);
  if (trigger.commit === undefined) return { trigger, source: { kind: 'project' } };
  const ref =
    trigger.tag !== undefined
      ? `refs/tags/${trigger.tag}`
      : trigger.branch !== undefined
        ? `refs/heads/${trigger.branch}`
        : undefined;
  return {
    trigger,
    source: {
      kind: 'git',
      repo: project.repo,
      commit: trigger.commit,
      ...(ref !== undefined ? { ref } : {}),
    },
  };
}

function readRef(ref: string): { branch: string } | { tag: string } {
  if (ref.startsWith('refs/')) {
    const target = classifyRef(ref);
    if ('problem' in target) throw errors.invalidRef(target.problem);
    return target.event === 'push' ? { branch: target.branch } : { tag: target.tag };
  }
  const problem = refNameProblem(ref);
  if (problem) throw errors.invalidRef(`ref ${JSON.stringify(ref.slice(0, 100))} ${problem}`);
  return { branch: ref };
}
