// `/executions/:id`, the run page: a header (status, trigger, commit, duration, reason), the
// steps' graph, the steps beside the selected step's log (above it on a phone), the reports
// (kept current by /assets/reports.js), the artifacts, and the Terminate and Re-run buttons for
// those allowed; Approve and Decline while it is blocked (a fork's pull request), and a box per
// step waiting at its approval gate. /assets/execution.js follows the run live through the
// events endpoint; /assets/log-view.js draws the log lines in view.
import type { ArtifactRecord } from '../../engine/backends/types.ts';
import { formatBytes } from '../../engine/logs/log-line.ts';
import { isFinished } from '../../engine/status.ts';
import { canApprove } from '../auth/permissions.ts';
import type { ShownDiagnostic } from '../executions/pipeline-diagnostics.ts';
import type { GraphStep } from '../executions/step-graph.ts';
import type { Execution, Project, StoredStep, User } from '../store/index.ts';
import { html, type SafeHtml, trustedHtml } from './html.ts';
import { layout } from './layout.ts';
import { logView } from './log-view.ts';
import { hasReports, NO_REPORTS, type ReportsOverview, reportsSection } from './reports-view.ts';
import { runHeader } from './run-header.ts';
import { stepGraph } from './step-graph.ts';
import { selectedStep, stepList } from './step-list.ts';

/** The pages' scripts and styles for metric charts. */
export const CHART_SCRIPTS = ['vendor/uplot.js', 'charts.js'] as const;
export const CHART_STYLES = ['vendor/uplot.css'] as const;
const RUN_SCRIPTS = ['log-view.js', 'execution.js'] as const;

export interface ExecutionPageInput {
  actor: User | undefined;
  project: Project;
  execution: Execution;
  steps: readonly StoredStep[];
  /** The steps' dependencies as the run's plan had them; absent for runs that kept none. */
  graph?: readonly GraphStep[] | undefined;
  /** An invalid pipeline file's errors with their source lines (diagnostics.json). */
  diagnostics?: readonly ShownDiagnostic[] | undefined;
  artifacts: readonly ArtifactRecord[];
  /** Reports stored so far; the browser fetches the metric points. */
  reports?: ReportsOverview;
  /** The session the execution belongs to, if any. */
  session?: { id: string; label: string };
  /** Where its commit statuses go, and why the last one could not be posted, if it could not. */
  forge?: { name: string; repo: string; problem: string | null };
  canWrite: boolean;
  /** Names of the secrets the execution was given (never values). */
  secrets?: readonly { name: string; scope: string }[];
  urls: {
    events: string;
    /** GET ?limit=&after= -> {items: [{seq, step, report}], next}; undefined on servers without it. */
    reports: string | undefined;
    metricsCsv?: string | undefined;
    logs: string;
    stepLogs: (step: string) => string;
    /** `<this><encoded step name>/log?from=&limit=`: a range of a step's lines. */
    stepLines: string;
    artifact: (path: string) => string;
  };
  now: Date;
}

export function executionPage(input: ExecutionPageInput): SafeHtml {
  const { actor, project, execution, steps, artifacts, canWrite, urls, now } = input;
  const { reports = NO_REPORTS, session, forge } = input;
  const id = encodeURIComponent(execution.id);
  const finished = isFinished(execution.status);
  const graph: readonly GraphStep[] =
    input.graph ?? steps.map((step) => ({ name: step.name, base: step.name, needs: [] }));
  const skipReasons = new Map(graph.flatMap((step) => (step.skip ? [[step.name, step.skip] as const] : [])));
  const statuses = new Map(steps.map((step) => [step.name, step.status as string]));
  const selected = selectedStep(steps)?.name;
  const body = html`<section id="execution" data-id="${execution.id}" data-status="${execution.status}" data-events="${urls.events}">
${runHeader({ project, execution, steps, session, forge, secrets: input.secrets, diagnostics: input.diagnostics, now })}
${execution.status === 'blocked' && execution.started_at === null ? approvalBox(id, canWrite) : ''}
<div id="step-approvals" data-signed-in="${actor ? 'true' : 'false'}">${steps.filter((step) => step.status === 'blocked').map((step) => stepApprovalBox(id, step, actor, canWrite))}</div>
${canWrite ? actions(execution, steps, finished) : ''}
${stepGraph(graph, statuses)}
<div class="run-body">
${stepList(steps, skipReasons, execution.rerun_of)}
${logView({ step: selected, plain: urls.logs, stepPlain: urls.stepLogs, linesBase: urls.stepLines })}
</div>
<p id="notices" class="notice"${finished ? html` hidden` : ''}>${finished ? '' : 'Following live…'}</p>
${reportsSection(reports, { reports: urls.reports, metricsCsv: urls.metricsCsv })}
<h2>Artifacts</h2>
<ul id="artifacts">${artifacts.map((artifact) => artifactItem(artifact, urls.artifact(artifact.path)))}</ul>
<p class="muted" id="no-artifacts"${artifacts.length > 0 ? html` hidden` : ''}>None.</p>
${jsonData('run-steps', { plainStep: urls.stepLogs(''), steps: stepData(steps, graph) })}
</section>`;
  return layout({
    title: `${project.name} #${execution.number}`,
    actor,
    body,
    scripts:
      hasReports(reports) || !finished ? [...CHART_SCRIPTS, 'reports.js', ...RUN_SCRIPTS] : RUN_SCRIPTS,
    styles: CHART_STYLES,
  });
}

/** Re-run starts the project's pipeline again: an external execution has none to start. */
function actions(execution: Execution, steps: readonly StoredStep[], finished: boolean): SafeHtml {
  const id = encodeURIComponent(execution.id);
  return html`<div class="actions">
<form method="post" action="/executions/${id}/terminate" id="terminate-form"${finished ? html` hidden` : ''}><button type="submit" class="danger">Terminate</button></form>
${execution.external ? '' : html`<form method="post" action="/executions/${id}/rerun" id="rerun-form"><button type="submit">Re-run</button></form>`}
${!execution.external && finished && steps.some((step) => RERUN_FROM_FAILED.has(step.status)) ? html`<form method="post" action="/executions/${id}/rerun" id="rerun-failed-form"><input type="hidden" name="from_failed" value="1"><button type="submit">Re-run failed steps</button></form>` : ''}
</div>`;
}

/** Statuses of the steps a re-run from the failed steps runs again (engine/rerun/decide.ts). */
const RERUN_FROM_FAILED: ReadonlySet<string> = new Set(['failure', 'killed', 'error', 'skipped']);

/** What the browser needs to say what a step waits for, or why it did not run. */
function stepData(steps: readonly StoredStep[], graph: readonly GraphStep[]) {
  const needs = new Map(graph.map((step) => [step.name, step.needs]));
  return steps.map((step) => ({
    name: step.name,
    status: step.status,
    reason: step.reason ?? graph.find((g) => g.name === step.name)?.skip ?? null,
    started_at: step.started_at,
    duration_ms: step.duration_ms,
    attempts: step.attempts,
    needs: needs.get(step.name) ?? [],
  }));
}

/** Data for the page's scripts; `<` escaped so no text inside can end the script element. */
function jsonData(id: string, value: unknown): SafeHtml {
  const json = JSON.stringify(value).replace(/</g, '\\u003c');
  return html`<script type="application/json" id="${id}">${trustedHtml(json)}</script>`;
}

/** Why it waits, and for those who may run the project's executions, the buttons that end the wait. */
function approvalBox(id: string, canWrite: boolean): SafeHtml {
  return html`<div id="approval" class="notice">
<p>This pull request comes from a fork: its pipeline runs code nobody on the project has reviewed yet. It waits, taking no runner, until a project member approves it. Its steps never get secrets.</p>
${
  canWrite
    ? html`<form method="post" action="/executions/${id}/approve" id="approve-form" class="inline"><button type="submit">Approve and run</button></form>
<form method="post" action="/executions/${id}/decline" id="decline-form" class="inline"><button type="submit" class="danger">Decline</button></form>`
    : html`<p class="muted">A member of the project can approve it.</p>`
}
</div>`;
}

/**
 * A step waiting at its approval gate: what it asks, and the buttons for those it names (or, when
 * it names nobody, for whoever may start executions). execution.js adds and removes these live.
 */
function stepApprovalBox(id: string, step: StoredStep, actor: User | undefined, canWrite: boolean): SafeHtml {
  const approvers = JSON.parse(step.approval_approvers ?? '[]') as string[];
  const action = (decision: 'approve' | 'decline') =>
    `/executions/${id}/steps/${encodeURIComponent(step.name)}/${decision}`;
  const who = approvers.length > 0 ? approvers.join(', ') : 'a member of the project';
  return html`<div class="notice step-approval" data-step="${step.name}">
<p>Step <strong>${step.name}</strong> waits for approval: <span class="approval-message">${step.reason ?? step.approval_message ?? ''}</span></p>
${
  actor && canApprove(actor, approvers, canWrite)
    ? html`<form method="post" action="${action('approve')}" class="inline approve-step"><button type="submit">Approve</button></form>
<form method="post" action="${action('decline')}" class="inline decline-step"><button type="submit" class="danger">Decline</button></form>`
    : html`<p class="muted">${who} can approve it.</p>`
}
</div>`;
}

/** execution.js adds items of the same shape for artifacts stored later, keyed by data-path. */
function artifactItem(artifact: ArtifactRecord, url: string): SafeHtml {
  return html`<li data-path="${artifact.path}"><a href="${url}" download>${artifact.path}</a> <span class="muted">${formatBytes(artifact.size)} · ${artifact.step}</span></li>`;
}
