// What to ask the execution manager for when a user starts or re-runs an execution (API or
// page form). Pure. The source is the project's registered one (which may be a local path only
// an admin could register), or for a re-run of a fork's pull request the fork it was built
// from; the trigger says which ref and commit to take from it.
import type { Trigger } from '../../engine/plan.ts';
import { hasFailedSteps } from '../../engine/rerun/decide.ts';
import { isFinished, type StepStatus } from '../../engine/status.ts';
import { errors } from '../errors.ts';
import type { ExecutionSource, StartExecutionRequest } from '../executions/types.ts';
import { refNameProblem } from '../git/ref-name.ts';
import { type Execution, type ForgeTarget, type Project, triggerOf } from '../store/index.ts';
import { classifyRef } from '../webhooks/ref.ts';

export interface StartPlan {
  trigger: Trigger;
  source: ExecutionSource;
}

const PROJECT_SOURCE: ExecutionSource = { kind: 'project' };

/**
 * A start through the API: on `ref` (a branch name, or a full `refs/heads/...` or
 * `refs/tags/...`) or the project's default branch, at `commit` or the ref's tip.
 */
export function manualStart(
  project: { default_branch: string },
  request: { ref?: string; commit?: string },
): StartPlan {
  const target = request.ref === undefined ? { branch: project.default_branch } : readRef(request.ref);
  const trigger: Trigger = { event: 'api', ...target };
  if (request.commit !== undefined) trigger.commit = request.commit;
  return { trigger, source: PROJECT_SOURCE };
}

/**
 * The same trigger again (on the same commit when the original had one), from the same source,
 * recorded as a re-run. Not held for approval: a member asking for it is the approval. It
 * reports to the forge the original reported to: a pull request's check is re-run in place.
 * An external execution has no pipeline here: re-running the project's instead would start
 * something nobody asked for.
 */
export function rerunRequest(
  original: Execution,
  project: Project,
  requestedBy: string,
  originalForge: ForgeTarget | undefined,
  fromFailed?: { steps: readonly { status: StepStatus }[] },
): StartExecutionRequest {
  if (original.external) throw errors.externalRerun();
  if (fromFailed) {
    if (!isFinished(original.status)) {
      throw errors.nothingToRerun(
        `execution #${original.number} has not ended: its failed steps are not known yet`,
      );
    }
    if (!hasFailedSteps(fromFailed)) throw errors.nothingToRerun();
  }
  return {
    project,
    trigger: triggerOf(original),
    source: original.source_repo === null ? PROJECT_SOURCE : { kind: 'git', repo: original.source_repo },
    requestedBy,
    rerunOf: original.id,
    ...(fromFailed ? { fromFailed: true } : {}),
    ...(original.message !== null ? { message: original.message } : {}),
    ...(originalForge ? { forge: { forge: originalForge.forge, repo: originalForge.repo } } : {}),
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
