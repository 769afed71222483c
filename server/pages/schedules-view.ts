// The schedules part of the project page: what runs when (those of the pipeline file marked so),
// and for the owner and admins the form that adds one and the buttons that remove them.
import type { Schedule } from '../store/index.ts';
import { timeElement } from './format.ts';
import { html, type SafeHtml } from './html.ts';

export interface SchedulesViewInput {
  projectId: string;
  schedules: readonly Schedule[];
  defaultBranch: string;
  /** The zone a schedule gets when the form leaves it empty. */
  serverTimeZone: string;
  canManage: boolean;
  now: Date;
}

export function schedulesView(input: SchedulesViewInput): SafeHtml | '' {
  const { schedules, canManage, now } = input;
  if (schedules.length === 0 && !canManage) return '';
  const base = `/projects/${encodeURIComponent(input.projectId)}/schedules`;
  const rows = schedules.map(
    (schedule) => html`<tr>
<td>${schedule.name ?? html`<span class="muted">–</span>`}${schedule.source === 'file' ? html` <span class="tag schedule-source" title="read from the default branch's pipeline file at each push to it">from .gbcms.yml</span>` : ''}</td>
<td><code>${schedule.cron}</code></td>
<td>${schedule.timezone}</td>
<td><code>${schedule.branch}</code></td>
<td>${timeElement(schedule.next_run_at, now)}</td>
<td>${
      schedule.last_execution_id
        ? html`<a href="/executions/${encodeURIComponent(schedule.last_execution_id)}">${timeElement(schedule.last_run_at, now)}</a>`
        : timeElement(schedule.last_run_at, now)
    }</td>
${
  !canManage
    ? ''
    : schedule.source === 'file'
      ? // Removed here, the next push to the default branch would bring it back.
        html`<td class="muted">remove it from the file</td>`
      : html`<td><form method="post" action="${base}/${encodeURIComponent(schedule.id)}/delete" class="inline"><button type="submit" class="link">Remove</button></form></td>`
}
</tr>`,
  );
  return html`<h2 id="schedules">Schedules</h2>
${
  schedules.length === 0
    ? html`<p class="notice">No schedules: executions start on pushes and by hand only.</p>`
    : html`<table class="list" id="schedule-list">
<thead><tr><th>Name</th><th>Cron</th><th>Time zone</th><th>Branch</th><th>Next run</th><th>Last run</th>${canManage ? html`<th></th>` : ''}</tr></thead>
<tbody>${rows}</tbody>
</table>`
}
${
  canManage
    ? html`<form method="post" action="${base}" class="stacked" id="new-schedule">
<label>Cron expression <input name="cron" required placeholder="0 3 * * 1-5" aria-describedby="cron-help"></label>
<p id="cron-help" class="muted">Five fields: minute, hour, day of month, month, day of week; or @hourly, @daily, @weekly.</p>
<label>Branch <input name="branch" placeholder="${input.defaultBranch}"></label>
<label>Name (optional) <input name="name" maxlength="100"></label>
<label>Time zone (optional) <input name="timezone" placeholder="${input.serverTimeZone}"></label>
<button type="submit">Add schedule</button>
</form>`
    : ''
}`;
}
