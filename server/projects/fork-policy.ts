// What a project's `fork_pull_requests` setting makes of a trigger. Pure. A pull request from a
// fork runs code (its pipeline file, its scripts) that nobody on the project has read, so by
// default it waits for a member's approval; secrets are withheld from it whatever this says.
import type { Trigger } from '../../engine/plan.ts';
import type { ForkPullRequestPolicy } from '../store/index.ts';

export type ForkAdmission =
  /** Not a fork, or the project runs forks at once. */
  | { kind: 'run' }
  /** Created `blocked`: it runs once a project member approves it. */
  | { kind: 'approve' }
  /** Nothing starts; `reason` is what the forge's delivery log shows. */
  | { kind: 'refuse'; reason: string };

export const FORKS_DISABLED =
  'pull requests from forks do not run in this project (its fork_pull_requests setting is never)';

export function forkAdmission(policy: ForkPullRequestPolicy, trigger: Pick<Trigger, 'fork'>): ForkAdmission {
  if (trigger.fork !== true) return { kind: 'run' };
  switch (policy) {
    case 'run':
      return { kind: 'run' };
    case 'never':
      return { kind: 'refuse', reason: FORKS_DISABLED };
    case 'approve':
      return { kind: 'approve' };
  }
}
