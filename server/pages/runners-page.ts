// `/runners`, for admins: every registered runner with what the server knows of it now.
import type { RunnerView } from '../runners/runner-views.ts';
import type { User } from '../store/index.ts';
import { timeElement } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';

export function runnersPage(input: {
  actor: User | undefined;
  runners: readonly RunnerView[];
  now: Date;
}): SafeHtml {
  const rows = input.runners.map(
    (runner) => html`<tr data-runner="${runner.name}">
<td>${runner.name}</td>
<td>${runner.labels.map((label) => html`<span class="tag">${label}</span> `)}</td>
<td>${runner.version ?? '–'}</td>
<td>${runner.capacity === null ? '–' : String(runner.capacity)}</td>
<td>${runner.running.map((id) => html`<a href="/executions/${encodeURIComponent(id)}">${id}</a> `)}</td>
<td>${runner.last_seen_at === null ? 'never' : timeElement(runner.last_seen_at, input.now)}</td>
<td class="runner-state">${runner.revoked_at !== null ? 'revoked' : runner.connected ? 'connected' : 'not connected'}</td>
</tr>`,
  );
  const body = html`<h1>Runners</h1>
${
  input.runners.length === 0
    ? html`<p class="notice">No runners yet: <code>gbcms runner register --name NAME</code> makes one.</p>`
    : html`<table class="list" id="runners">
<thead><tr><th>Name</th><th>Labels</th><th>Version</th><th>Capacity</th><th>Running</th><th>Last seen</th><th>State</th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}`;
  return layout({ title: 'Runners', actor: input.actor, body });
}
