// What the API answers for stored rows: internal columns (logs_dir, the execution counter)
// left out, URLs of related resources added.
import type { ArtifactRecord } from '../../../engine/backends/types.ts';
import { GLOBAL_SCOPE_KEY } from '../../secrets/vault.ts';
import type { Execution, Project, StoredStep } from '../../store/index.ts';
import type { Links } from '../links.ts';

export type ExecutionView = Omit<Execution, 'logs_dir' | 'external' | 'fork' | 'rerun_from_failed'> & {
  external: boolean;
  fork: boolean;
  rerun_from_failed: boolean;
  duration_ms: number | null;
  logs: string;
  events: string;
  web_url: string;
};

export function executionView(execution: Execution, urls: Links): ExecutionView {
  const { logs_dir: _, ...fields } = execution;
  return {
    ...fields,
    external: execution.external === 1,
    fork: execution.fork === 1,
    rerun_from_failed: execution.rerun_from_failed === 1,
    duration_ms: durationMs(execution.started_at, execution.ended_at),
    logs: urls.executionLogs(execution.id),
    events: urls.executionEvents(execution.id),
    web_url: urls.executionPage(execution.id),
  };
}

export function stepView(executionId: string, step: StoredStep, urls: Links) {
  const {
    execution_id: _,
    log: __,
    approval_message,
    approval_approvers,
    approval_decision,
    approval_by,
    approval_at,
    ...fields
  } = step;
  // Only a gated step has an approval; its decision fields stay null until someone answers.
  const approval =
    approval_message === null
      ? null
      : {
          message: approval_message,
          approvers: JSON.parse(approval_approvers ?? '[]') as string[],
          decision: approval_decision,
          by: approval_by,
          at: approval_at,
        };
  return { ...fields, approval, logs: urls.stepLogs(executionId, step.name) };
}

export function artifactView(executionId: string, artifact: ArtifactRecord, urls: Links) {
  return { ...artifact, url: urls.artifact(executionId, artifact.path) };
}

export function projectView(project: Project, options: { showSecret: boolean }, urls: Links) {
  const { webhook_secret, ...fields } = project;
  return {
    ...fields,
    ...(options.showSecret ? { webhook_secret } : {}),
    webhook_url: urls.githubHook(project.id),
    git_hook_url: urls.gitHook(project.id),
    badge_url: urls.badge(project.id),
    web_url: urls.projectPage(project.id),
  };
}

function durationMs(startedAt: string | null, endedAt: string | null): number | null {
  if (startedAt === null || endedAt === null) return null;
  return Math.max(0, Date.parse(endedAt) - Date.parse(startedAt));
}

/** A secret an execution was given: its name and where it came from, never its value. */
export function secretUseView(use: { scope_key: string; name: string }) {
  return { name: use.name, scope: use.scope_key === GLOBAL_SCOPE_KEY ? 'global' : 'project' };
}
