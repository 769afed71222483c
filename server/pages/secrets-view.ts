// The project page's Secrets section, for its owner and admins: names, limits, who set them
// and when, never a value; a form to add or replace one, and a Remove button per secret.
import { SECRET_EVENTS } from '../store/index.ts';
import { timeElement } from './format.ts';
import { html, type SafeHtml } from './html.ts';

export interface SecretRow {
  name: string;
  scope: 'global' | 'project';
  events: readonly string[] | null;
  branches: readonly string[] | null;
  updated_by: string;
  updated_at: string;
  /** The executions that used it last, newest first. */
  uses: readonly { execution_id: string; number: number }[];
}

/** `linkGlobal`: global secrets' pages are for admins, so only they get those links. */
export function secretsSection(
  projectId: string,
  secrets: readonly SecretRow[],
  now: Date,
  linkGlobal = false,
): SafeHtml {
  const id = encodeURIComponent(projectId);
  const page = (secret: SecretRow) =>
    secret.scope === 'project'
      ? `/projects/${id}/secrets/${encodeURIComponent(secret.name)}`
      : `/secrets/${encodeURIComponent(secret.name)}`;
  const rows = secrets.map(
    (secret) => html`<tr data-secret="${secret.name}">
<td>${
      secret.scope === 'project' || linkGlobal
        ? html`<a href="${page(secret)}"><code>${secret.name}</code></a>`
        : html`<code>${secret.name}</code>`
    }</td>
<td>${secret.scope}</td>
<td>${secret.events?.join(', ') ?? 'all'}</td>
<td>${secret.branches?.join(', ') ?? 'all'}</td>
<td>${secret.updated_by} ${timeElement(secret.updated_at, now)}</td>
<td>${secret.uses.map((use) => html`<a href="/executions/${encodeURIComponent(use.execution_id)}">#${use.number}</a> `)}</td>
<td>${
      secret.scope === 'project'
        ? html`<form method="post" action="/projects/${id}/secrets/${encodeURIComponent(secret.name)}/remove"><button type="submit" class="danger">Remove</button></form>`
        : ''
    }</td>
</tr>`,
  );
  return html`<h2>Secrets</h2>
${
  secrets.length === 0
    ? html`<p class="notice">No secrets. Steps name the ones they need under <code>secrets:</code>.</p>`
    : html`<table class="list" id="secrets">
<thead><tr><th>Name</th><th>Scope</th><th>Events</th><th>Branches</th><th>Changed</th><th>Used by</th><th></th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}
<form method="post" action="/projects/${id}/secrets" id="secret-form" class="secret-form" autocomplete="off">
<label>Name <input name="name" required pattern="[A-Za-z_][A-Za-z0-9_]{3,}" maxlength="128"></label>
<label>Value <input name="value" type="password" required minlength="4"></label>
<label>Events <input name="events" placeholder="all (or ${SECRET_EVENTS.join(', ')})"></label>
<label>Branches <input name="branches" placeholder="all (or main, release/*)"></label>
<button type="submit">Save secret</button>
</form>
<p class="hint">A project secret replaces a global one of the same name. Values are never shown again.</p>`;
}
