// `/executions/:id`: status, steps, reports (progress, metric charts, tests, annotations: kept
// current by /assets/reports.js), logs (coloured; followed live by /assets/execution.js through
// the events endpoint while the execution runs), artifacts, and the Terminate and Re-run
// buttons for those allowed; Approve and Decline while it is blocked (a fork's pull request),
// and a box per step waiting at its approval gate, with that step's Approve and Decline.
import type { ArtifactRecord } from '../../engine/backends/types.ts';
import type { LogLine } from '../../engine/logs/log-line.ts';
import { formatBytes } from '../../engine/logs/log-line.ts';
import { isFinished } from '../../engine/status.ts';
import { canApprove } from '../auth/permissions.ts';
import type { Execution, Project, StoredStep, User } from '../store/index.ts';
import { ansiToHtml } from './ansi.ts';
import { durationText, refText, shortCommit, statusLabel, stepDurationText, timeElement } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';
import { hasReports, NO_REPORTS, type ReportsOverview, reportsSection } from './reports-view.ts';

/** The pages' scripts and styles for metric charts. */
export const CHART_SCRIPTS = ['vendor/uplot.js', 'charts.js'] as const;
export const CHART_STYLES = ['vendor/uplot.css'] as const;

export interface StepLogTail {
  /** The last lines of the step's log. */
  lines: readonly LogLine[];
  /** Lines before these that are not shown. */
  omitted: number;
}

export interface ExecutionPageInput {
  actor: User | undefined;
  project: Project;
  execution: Execution;
  steps: readonly StoredStep[];
  logs: ReadonlyMap<string, StepLogTail>;
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
    artifact: (path: string) => string;
  };
  now: Date;
}

export function executionPage(input: ExecutionPageInput): SafeHtml {
  const { actor, project, execution, steps, logs, artifacts, canWrite, urls, now } = input;
  const { reports = NO_REPORTS, session, forge } = input;
  const id = encodeURIComponent(execution.id);
  const finished = isFinished(execution.status);
  const body = html`<section id="execution" data-id="${execution.id}" data-status="${execution.status}" data-events="${urls.events}">
<h1><a href="/projects/${encodeURIComponent(project.id)}">${project.name}</a> #${execution.number}${execution.name ? html` <span class="execution-name">${execution.name}</span>` : ''}
<span id="status" class="status status-${execution.status}">${execution.status}</span></h1>
<dl class="meta">
<dt>Trigger</dt><dd>${execution.trigger_event}</dd>
<dt>Ref</dt><dd>${refText(execution)}</dd>
<dt>Commit</dt><dd><code title="${execution.commit_sha ?? ''}">${shortCommit(execution.commit_sha)}</code></dd>
${execution.author ? html`<dt>Author</dt><dd>${execution.author}</dd>` : ''}
${execution.message ? html`<dt>Message</dt><dd class="message">${execution.message}</dd>` : ''}
<dt>Created</dt><dd>${timeElement(execution.created_at, now)}</dd>
<dt>Duration</dt><dd id="duration">${durationText(execution.started_at, execution.ended_at, now)}</dd>
<dt>Reason</dt><dd id="reason">${execution.reason ?? '–'}</dd>
${execution.runner ? html`<dt>Runner</dt><dd id="runner">${execution.runner}</dd>` : ''}
${forge ? html`<dt>Status to</dt><dd id="forge-status">${forge.name} ${forge.repo}${forge.problem ? html` <span class="error" id="forge-problem">${forge.problem}</span>` : ''}</dd>` : ''}
${execution.approved_by ? html`<dt>Approved</dt><dd id="approved">by ${execution.approved_by}${execution.approved_at ? html` ${timeElement(execution.approved_at, now)}` : ''}</dd>` : ''}
${input.secrets && input.secrets.length > 0 ? html`<dt>Secrets</dt><dd id="secrets">${input.secrets.map((s) => html`<code>${s.name}</code> <span class="tag">${s.scope}</span> `)}</dd>` : ''}
${session ? html`<dt>Session</dt><dd><a id="session-link" href="/sessions/${encodeURIComponent(session.id)}">${session.label}</a></dd>` : ''}
</dl>
${execution.status === 'blocked' && execution.started_at === null ? approvalBox(id, canWrite) : ''}
<div id="step-approvals" data-signed-in="${actor ? 'true' : 'false'}">${steps.filter((step) => step.status === 'blocked').map((step) => stepApprovalBox(id, step, actor, canWrite))}</div>
${
  canWrite
    ? html`<div class="actions">
<form method="post" action="/executions/${id}/terminate" id="terminate-form"${finished ? html` hidden` : ''}><button type="submit" class="danger">Terminate</button></form>
<form method="post" action="/executions/${id}/rerun" id="rerun-form"><button type="submit">Re-run</button></form>
</div>`
    : ''
}
<h2>Steps</h2>
<table class="list" id="steps">
<thead><tr><th>Status</th><th>Step</th><th>Duration</th><th>Attempts</th><th>Detail</th></tr></thead>
<tbody>${steps.map(stepRow)}</tbody>
</table>
${reportsSection(reports, { reports: urls.reports, metricsCsv: urls.metricsCsv })}
<h2>Logs <a class="small" href="${urls.logs}">plain text</a>
<label class="small toggle"><input type="checkbox" id="show-report-lines"> show report lines</label></h2>
<div id="logs">${steps.map((step) => stepLog(step, logs.get(step.name), urls.stepLogs(step.name)))}</div>
<p id="notices" class="notice"${finished ? html` hidden` : ''}>${finished ? '' : 'Following live…'}</p>
<h2>Artifacts</h2>
<ul id="artifacts">${artifacts.map((artifact) => artifactItem(artifact, urls.artifact(artifact.path)))}</ul>
${artifacts.length === 0 ? html`<p class="muted" id="no-artifacts">None.</p>` : ''}
</section>`;
  return layout({
    title: `${project.name} #${execution.number}`,
    actor,
    body,
    // An ended execution without reports needs no script at all.
    scripts: finished
      ? hasReports(reports)
        ? [...CHART_SCRIPTS, 'reports.js']
        : []
      : [...CHART_SCRIPTS, 'reports.js', 'execution.js'],
    styles: CHART_STYLES,
  });
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

function stepRow(step: StoredStep): SafeHtml {
  return html`<tr data-step="${step.name}">
<td class="step-status">${statusLabel(step.status)}</td>
<td>${step.name}</td>
<td class="step-duration">${stepDurationText(step.duration_ms)}</td>
<td class="step-attempts">${step.attempts}</td>
<td class="step-reason">${step.reason ?? decisionText(step)}</td>
</tr>`;
}

/** An approved step's row says who let it run (a declined one's reason says who declined it). */
function decisionText(step: StoredStep): string {
  return step.approval_decision === 'approved' && step.approval_by ? `approved by ${step.approval_by}` : '';
}

function stepLog(step: StoredStep, tail: StepLogTail | undefined, fullLog: string): SafeHtml {
  const lines = tail?.lines ?? [];
  const last = lines.at(-1);
  return html`<section class="step-log" data-step="${step.name}">
<h3>${step.name}</h3>
${tail && tail.omitted > 0 ? html`<p class="muted">${tail.omitted} earlier lines not shown: <a href="${fullLog}">full log</a></p>` : ''}
<pre class="log" data-last-seq="${last?.seq ?? 0}">${lines.map(logLine)}</pre>
</section>`;
}

function logLine(line: LogLine): SafeHtml {
  // A report line keeps its line break inside, so hiding it leaves no blank line.
  if (line.report) {
    return html`<span class="line line-${line.stream} line-report" data-seq="${line.seq}">${ansiToHtml(line.text)}\n</span>`;
  }
  return html`<span class="line line-${line.stream}" data-seq="${line.seq}">${ansiToHtml(line.text)}</span>${line.partial ? '' : '\n'}`;
}

function artifactItem(artifact: ArtifactRecord, url: string): SafeHtml {
  return html`<li><a href="${url}" download>${artifact.path}</a> <span class="muted">${formatBytes(artifact.size)} · ${artifact.step}</span></li>`;
}
