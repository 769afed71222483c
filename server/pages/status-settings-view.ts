// The project page's "Commit statuses" section, for its owner and admins: whether each step
// gets a status of its own, and which forge repository pushes through the plain git hook
// report to (for a bare repository that mirrors one on a forge).
import { FORGE_NAMES } from '../forges/commit-status.ts';
import { FORGE_REPO_FORMS } from '../forges/forge-repo.ts';
import { FORGES, type StatusSettings } from '../store/index.ts';
import { html, type SafeHtml } from './html.ts';

export function statusSettingsView(projectId: string, settings: StatusSettings): SafeHtml {
  const forge = settings.git_hook_forge;
  const options = [
    html`<option value="none"${forge === null ? html` selected` : ''}>none</option>`,
    ...FORGES.map(
      (f) =>
        html`<option value="${f}"${forge?.forge === f ? html` selected` : ''}>${FORGE_NAMES[f]}</option>`,
    ),
  ];
  return html`<h2 id="commit-statuses">Commit statuses</h2>
<p class="hint">Executions started by a forge's webhook report their state to the commit as <code>gbcms/&lt;project&gt;</code>.</p>
<form method="post" action="/projects/${encodeURIComponent(projectId)}/status-settings" class="stacked" id="status-settings">
<label><input type="checkbox" name="step_statuses" value="on"${settings.step_statuses ? html` checked` : ''}> One status per step too (<code>gbcms/&lt;project&gt;/&lt;step&gt;</code>)</label>
<label>Pushes through the plain git hook report to <select name="forge">${options}</select></label>
<label>Forge repository <input name="forge_repo" maxlength="255" value="${forge?.repo ?? ''}" placeholder="${FORGE_REPO_FORMS.github}" aria-describedby="forge-repo-help"></label>
<p id="forge-repo-help" class="muted">For a bare repository mirroring one on a forge: ${FORGE_REPO_FORMS.github} on GitHub and Gitea, ${FORGE_REPO_FORMS.gitlab} on GitLab.</p>
<button type="submit">Save status settings</button>
</form>`;
}
