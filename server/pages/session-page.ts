// `/sessions/:id`: a session's executions (status, name, start, duration) and, per metric
// name, one chart overlaying the executions' curves. /assets/session.js fetches the points
// through the reports API and keeps running executions current.
import { isFinished } from '../../engine/status.ts';
import type { Execution, Project, Session, User } from '../store/index.ts';
import { CHART_SCRIPTS, CHART_STYLES } from './execution-page.ts';
import { durationText, statusLabel, timeElement } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';
import { type SessionKeysInput, sessionKeysSection } from './session-keys-view.ts';

export interface SessionPageInput {
  actor: User | undefined;
  project: Project;
  session: Session;
  /** Oldest first. */
  executions: readonly Execution[];
  /** Each metric name the executions reported, once, sorted. */
  metrics: readonly string[];
  urls: {
    execution: (id: string) => string;
    reports: (id: string) => string;
  };
  now: Date;
  /** For writers of the project: the Keys section. */
  keys?: SessionKeysInput;
}

/** How an execution is named in the table and the chart legends. */
export function executionLabel(execution: Pick<Execution, 'number' | 'name'>): string {
  return execution.name ? `#${execution.number} ${execution.name}` : `#${execution.number}`;
}

export function sessionPage(input: SessionPageInput): SafeHtml {
  const { actor, project, session, executions, metrics, urls, now, keys } = input;
  const rows = executions.map(
    (
      execution,
    ) => html`<tr data-execution="${execution.id}" data-label="${executionLabel(execution)}" data-status="${execution.status}" data-api="${urls.execution(execution.id)}" data-reports="${urls.reports(execution.id)}">
<td><a href="/executions/${encodeURIComponent(execution.id)}">#${execution.number}</a></td>
<td>${execution.name ?? html`<span class="muted">–</span>`}</td>
<td class="execution-status">${statusLabel(execution.status)}</td>
<td>${timeElement(execution.started_at, now)}</td>
<td class="execution-duration">${durationText(execution.started_at, execution.ended_at, now)}</td>
</tr>`,
  );
  const body = html`<section id="session" data-id="${session.id}">
<h1><a href="/projects/${encodeURIComponent(project.id)}">${project.name}</a> · ${session.name}</h1>
<dl class="meta">
<dt>Session</dt><dd>${session.name}</dd>
<dt>Created</dt><dd>${timeElement(session.created_at, now)}</dd>
<dt>Executions</dt><dd>${executions.length}${executions.some((e) => !isFinished(e.status)) ? html` <span class="muted">(some still running)</span>` : ''}</dd>
</dl>
<h2>Executions</h2>
${
  executions.length === 0
    ? html`<p class="notice">No executions yet.</p>`
    : html`<table class="list session-executions" id="session-executions">
<thead><tr><th>#</th><th>Name</th><th>Status</th><th>Started</th><th>Duration</th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}
<h2>Metrics</h2>
<p class="muted small">One chart per metric, one curve per execution: against the reported step when every point has one, else against the seconds since the execution's first point.</p>
<div id="charts" class="chart-grid">${metrics.map(
    (name) =>
      html`<figure class="chart" data-chart="${name}"><figcaption>${name}</figcaption><div class="plot"></div></figure>`,
  )}</div>
<p class="notice" id="no-metrics"${metrics.length > 0 ? html` hidden` : ''}>No metrics reported yet.</p>
${keys ? sessionKeysSection(keys, now) : ''}
</section>`;
  return layout({
    title: `${session.name} · ${project.name}`,
    actor,
    body,
    scripts: [...CHART_SCRIPTS, 'session.js'],
    styles: CHART_STYLES,
  });
}
