// The start request an execution row stands for, rebuilt once the request itself is gone (after
// a restart, or when a blocked execution is approved): its trigger, and its source as recorded
// (a fork's clone URL), so a fork's pull request is never built from the base repository's
// branch of the same name.
import type { Trigger } from '../../engine/plan.ts';
import { type Execution, type Project, triggerOf } from '../store/index.ts';
import type { ExecutionSource, StartExecutionRequest } from './types.ts';

/** What the row keeps of a source: the repository when it is not the project's own. */
export function sourceRepoOf(source: ExecutionSource): string | null {
  return source.kind === 'git' ? source.repo : null;
}

export function storedRequest(row: Execution, project: Project): StartExecutionRequest {
  const trigger = triggerOf(row);
  // The commit and ref follow from the trigger (prepareSource), as they did for the original.
  const source: ExecutionSource =
    row.source_repo === null ? { kind: 'project' } : { kind: 'git', repo: row.source_repo };
  const request: StartExecutionRequest = { project, trigger, source };
  if (row.message !== null) request.message = row.message;
  if (row.rerun_of !== null) request.rerunOf = row.rerun_of;
  if (row.rerun_from_failed === 1) request.fromFailed = true;
  return request;
}

/** A project run without a ref runs the project's default branch, and says so in its row. */
export function withDefaultBranch(request: StartExecutionRequest): Trigger {
  const { trigger, source, project } = request;
  if (source.kind !== 'project' || trigger.branch || trigger.tag || trigger.commit) return trigger;
  return { ...trigger, branch: project.default_branch };
}
