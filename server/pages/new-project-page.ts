// `/projects/new`: the form admins register a project with; it leads to the project's page,
// which says how to connect the repository.
import type { User } from '../store/index.ts';
import { VISIBILITIES } from '../store/index.ts';
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';

export function newProjectPage(input: { actor: User; maxConcurrent: number }): SafeHtml {
  const body = html`<h1>New project</h1>
<form method="post" action="/projects" class="stacked" id="new-project">
<label>Name <input name="name" required maxlength="100" autocomplete="off"></label>
<label>Repository <input name="repo" required maxlength="4096" placeholder="https://github.com/org/repo.git or /srv/git/repo.git"></label>
<label>Description (optional) <input name="description" maxlength="2000"></label>
<label>Default branch <input name="default_branch" value="main" maxlength="255"></label>
<label>Visibility <select name="visibility">${VISIBILITIES.map(
    (v) => html`<option value="${v}"${v === 'private' ? html` selected` : ''}>${v}</option>`,
  )}</select></label>
<label>Executions at once <input name="max_concurrent" type="number" min="1" max="${input.maxConcurrent}" value="1"></label>
<button type="submit">Create project</button>
</form>`;
  return layout({ title: 'New project', actor: input.actor, body });
}
