// An execution's status as each forge's commit-status API takes it. Pure. Every forge has
// pending, success and failure; they differ on the rest, so each mapping keeps what the
// forge can show and says the rest in the description.
import type { RunStatus } from '../../engine/status.ts';
import type { Forge } from '../store/index.ts';

/** How pages and notices name each forge. */
export const FORGE_NAMES: Record<Forge, string> = { github: 'GitHub', gitea: 'Gitea', gitlab: 'GitLab' };

/** The fields every forge's status call carries, under gbcms's names. */
export interface CommitStatus {
  state: string;
  description: string;
  /** GitHub and Gitea call it `context`, GitLab `name`. */
  context: string;
  /** The run page; absent when the server has no public URL (a relative link means nothing on a forge). */
  targetUrl?: string;
}

/** GitHub cuts descriptions at 140 characters and refuses longer ones. */
export const MAX_DESCRIPTION = 140;

// GitHub: error, failure, pending, success (POST /repos/{owner}/{repo}/statuses/{sha}).
// Gitea/Forgejo: pending, success, error, failure, warning (same shape under /api/v1).
// GitLab: pending, running, success, failed, canceled (POST /projects/:id/statuses/:sha).
const STATES: Record<Forge, Record<RunStatus, string>> = {
  github: {
    pending: 'pending',
    blocked: 'pending',
    running: 'pending',
    success: 'success',
    failure: 'failure',
    error: 'error',
    killed: 'error',
    skipped: 'success',
  },
  gitea: {
    pending: 'pending',
    blocked: 'pending',
    running: 'pending',
    success: 'success',
    failure: 'failure',
    error: 'error',
    killed: 'error',
    skipped: 'success',
  },
  gitlab: {
    pending: 'pending',
    blocked: 'pending',
    running: 'running',
    success: 'success',
    failure: 'failed',
    error: 'failed',
    killed: 'canceled',
    skipped: 'success',
  },
};

const DESCRIPTIONS: Record<RunStatus, string> = {
  pending: 'queued',
  blocked: 'waiting for approval',
  running: 'running',
  success: 'passed',
  failure: 'failed',
  error: 'could not run',
  killed: 'cancelled',
  skipped: 'nothing to run',
};

export interface StatusInput {
  status: RunStatus;
  /** Why it ended early, if it did: follows the description. */
  reason: string | null;
  context: string;
  targetUrl?: string;
}

export function commitStatus(forge: Forge, input: StatusInput): CommitStatus {
  const described = DESCRIPTIONS[input.status];
  const description = input.reason ? `${described}: ${input.reason}` : described;
  return {
    state: STATES[forge][input.status],
    description: truncate(description, MAX_DESCRIPTION),
    context: input.context,
    ...(input.targetUrl ? { targetUrl: input.targetUrl } : {}),
  };
}

/**
 * `gbcms/<name>`: the project's name, since the status is first posted while the execution
 * waits, before its pipeline file is read; a context that changed later would leave the
 * first status pending on the commit for ever.
 */
export function statusContext(projectName: string): string {
  return `gbcms/${projectName}`;
}

/** `gbcms/<name>/<step>`: a step's own status, for projects that enable per-step statuses. */
export function stepStatusContext(projectName: string, step: string): string {
  return `${statusContext(projectName)}/${step}`;
}

function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
