// `/`: the projects the visitor may see.
import type { Project, User } from '../store/index.ts';
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';

export interface ProjectsPageInput {
  actor: User | undefined;
  projects: readonly Project[];
}

export function projectsPage({ actor, projects }: ProjectsPageInput): SafeHtml {
  const rows = projects.map(
    (project) => html`<tr>
<td><a href="/projects/${encodeURIComponent(project.id)}">${project.name}</a>${project.visibility === 'private' ? html` <span class="tag">private</span>` : ''}</td>
<td>${project.description ?? ''}</td>
<td><code>${project.default_branch}</code></td>
<td><img src="/badges/${encodeURIComponent(project.id)}.svg" alt="build status of ${project.name}" height="20"></td>
</tr>`,
  );
  const body = html`<h1>Projects</h1>
${actor?.role === 'admin' ? html`<p class="actions"><a href="/projects/new" id="new-project-link">New project</a></p>` : ''}
${
  projects.length === 0
    ? html`<p class="notice">${actor ? 'No projects you can see yet.' : 'No public projects. Sign in to see private ones.'}</p>`
    : html`<table class="list">
<thead><tr><th>Project</th><th>Description</th><th>Branch</th><th>Status</th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}`;
  return layout({ title: 'Projects', actor, body });
}
