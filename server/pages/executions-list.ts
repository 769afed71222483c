// The executions table of the project and home pages: what ran (commit message, author,
// branch, or an external execution's name and session), how it went, how long it took and
// when. At phone width each row stacks into a card (app.css, "Lists at phone width"): every
// cell carries its column's name in data-label for that.
import type { Execution } from '../store/index.ts';
import { durationText, refText, shortCommit, statusLabel, timeElement } from './format.ts';
import { html, type SafeHtml } from './html.ts';

export interface ExecutionsTableInput {
  id: string;
  executions: readonly Execution[];
  /** Session names by id, for external executions. */
  sessionNames?: ReadonlyMap<string, string>;
  /** Project names by id: a Project column (the home page lists several projects). */
  projectNames?: ReadonlyMap<string, string>;
  now: Date;
}

/** The first line of a commit message. */
export function firstLine(message: string | null): string | null {
  if (message === null) return null;
  const line = message.split(/\r?\n/, 1)[0]?.trim() ?? '';
  return line === '' ? null : line;
}

export function executionsTable(input: ExecutionsTableInput): SafeHtml {
  const { executions, projectNames, now } = input;
  const rows = executions.map(
    (execution) => html`<tr>
<td data-label="#"><a href="/executions/${encodeURIComponent(execution.id)}">#${execution.number}</a></td>
${projectNames ? html`<td data-label="Project"><a href="/projects/${encodeURIComponent(execution.project_id)}">${projectNames.get(execution.project_id) ?? execution.project_id}</a></td>` : ''}
<td data-label="Status">${statusLabel(execution.status)}</td>
<td data-label="What" class="what">${whatRan(execution, input.sessionNames)}</td>
<td data-label="Branch">${execution.external === 1 ? html`<span class="muted">–</span>` : html`<code>${refText(execution)}</code>`}</td>
<td data-label="Duration">${durationText(execution.started_at, execution.ended_at, now)}</td>
<td data-label="When">${timeElement(execution.created_at, now)}</td>
</tr>`,
  );
  return html`<div class="list-box"><table class="list executions" id="${input.id}">
<thead><tr><th>#</th>${projectNames ? html`<th>Project</th>` : ''}<th>Status</th><th>What</th><th>Branch</th><th>Duration</th><th>When</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

function whatRan(execution: Execution, sessionNames: ReadonlyMap<string, string> | undefined): SafeHtml {
  if (execution.external === 1) {
    const session = execution.session_id;
    return html`<span class="execution-name">${execution.name ?? 'external'}</span>
${session === null ? '' : html`<span class="small">in <a href="/sessions/${encodeURIComponent(session)}">${sessionNames?.get(session) ?? 'its session'}</a></span>`}`;
  }
  const title = firstLine(execution.message);
  return html`<span class="commit-message">${title ?? html`<span class="muted">${execution.trigger_event}</span>`}</span>
<span class="small">${execution.author ? html`<span class="author">${execution.author}</span> · ` : ''}<code>${shortCommit(execution.commit_sha)}</code> · ${execution.trigger_event}</span>`;
}
