// `/`: the projects the visitor may see.
import type { Execution, Project, User } from '../store/index.ts';
import { type ExecutionFilters, executionFilters, olderLink } from './execution-filters.ts';
import { executionsTable } from './executions-list.ts';
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';

export interface ProjectsPageInput {
  actor: User | undefined;
  projects: readonly Project[];
  /** A page of those projects' executions, newest first. */
  recent?: readonly Execution[];
  /** The next page's cursor; null on the last page. */
  nextCursor?: string | null;
  filters?: ExecutionFilters;
  /** Whether this is a later page (a cursor was given). */
  paged?: boolean;
  /** Session names by id, for external executions. */
  sessionNames?: ReadonlyMap<string, string>;
  now?: Date;
}

export function projectsPage({
  actor,
  projects,
  recent = [],
  nextCursor = null,
  filters = {},
  paged = false,
  sessionNames,
  now = new Date(),
}: ProjectsPageInput): SafeHtml {
  const filtered = filters.branch !== undefined || filters.status !== undefined;
  const rows = projects.map(
    (project) => html`<tr>
<td data-label="Project"><a href="/projects/${encodeURIComponent(project.id)}">${project.name}</a>${project.visibility === 'private' ? html` <span class="tag">private</span>` : ''}</td>
<td data-label="Description">${project.description ?? ''}</td>
<td data-label="Branch"><code>${project.default_branch}</code></td>
<td data-label="Status"><img src="/badges/${encodeURIComponent(project.id)}.svg" alt="build status of ${project.name}" height="20"></td>
</tr>`,
  );
  const body = html`<h1>Projects</h1>
${actor?.role === 'admin' ? html`<p class="actions"><a href="/projects/new" id="new-project-link">New project</a></p>` : ''}
${
  projects.length === 0
    ? html`<p class="notice">${actor ? 'No projects you can see yet.' : 'No public projects. Sign in to see private ones.'}</p>`
    : html`<div class="list-box"><table class="list" id="projects">
<thead><tr><th>Project</th><th>Description</th><th>Branch</th><th>Status</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`
}
${
  projects.length === 0
    ? ''
    : html`<h2>Recent executions</h2>
${executionFilters('/', filters)}
${
  recent.length === 0
    ? html`<p class="notice">No executions ${filtered ? 'match these filters' : paged ? 'on this page' : 'yet'}.</p>`
    : executionsTable({
        id: 'recent-executions',
        executions: recent,
        projectNames: new Map(projects.map((p) => [p.id, p.name])),
        ...(sessionNames ? { sessionNames } : {}),
        now,
      })
}
${olderLink('/', filters, nextCursor, paged)}`
}`;
  return layout({ title: 'Projects', actor, body });
}
