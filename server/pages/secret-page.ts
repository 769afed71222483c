// `/projects/:id/secrets/:name` and `/secrets/:name`: one secret's audit page, for those who
// manage it. What it is given to, who changed it and when, and the last executions that were
// given it, linked; never its value.
import type { SecretView } from '../secrets/vault.ts';
import type { SecretUse, User } from '../store/index.ts';
import { statusLabel, timeElement } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';

export interface SecretPageInput {
  actor: User | undefined;
  secret: SecretView;
  /** The project of a project secret; absent for a global one. */
  project?: { id: string; name: string };
  /** Newest first, each with the name of its project. */
  uses: readonly (SecretUse & { project_name: string })[];
  now: Date;
}

export function secretPage({ actor, secret, project, uses, now }: SecretPageInput): SafeHtml {
  const rows = uses.map(
    (use) => html`<tr>
<td><a href="/executions/${encodeURIComponent(use.execution_id)}">${use.project_name} #${use.number}</a></td>
<td>${statusLabel(use.status)}</td>
<td>${timeElement(use.created_at, now)}</td>
</tr>`,
  );
  const scope = project
    ? html`project <a href="/projects/${encodeURIComponent(project.id)}">${project.name}</a>`
    : html`global: every project whose steps name it, unless the project has its own`;
  const body = html`<h1>Secret <code>${secret.name}</code></h1>
<dl class="meta" id="secret">
<dt>Scope</dt><dd>${scope}</dd>
<dt>Events</dt><dd>${secret.events?.join(', ') ?? 'all'}</dd>
<dt>Branches</dt><dd>${secret.branches?.join(', ') ?? 'all (and tags)'}</dd>
<dt>Changed</dt><dd>by ${secret.updated_by} ${timeElement(secret.updated_at, now)}</dd>
<dt>Created</dt><dd>${timeElement(secret.created_at, now)}</dd>
<dt>Value</dt><dd class="muted">never shown; set it again to replace it</dd>
</dl>
<h2>Last executions given it</h2>
${
  uses.length === 0
    ? html`<p class="notice">No execution has been given it yet.</p>`
    : html`<table class="list" id="secret-uses">
<thead><tr><th>Execution</th><th>Status</th><th>Created</th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}`;
  return layout({ title: `Secret ${secret.name}`, actor, body });
}
