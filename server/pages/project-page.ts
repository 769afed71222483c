// `/projects/:id`: recent executions, sessions, the badge to embed, a Run button for those allowed,
// and for its owner and admins the settings a page can change (what pull requests from forks do).
import {
  type Execution,
  FORK_PULL_REQUEST_POLICIES,
  type ForkPullRequestPolicy,
  type Project,
  type Schedule,
  type SessionSummary,
  type StatusSettings,
  type User,
} from '../store/index.ts';
import { connectView } from './connect-view.ts';
import { type ExecutionFilters, executionFilters, olderLink } from './execution-filters.ts';
import { executionsTable } from './executions-list.ts';
import { timeElement } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';
import { schedulesView } from './schedules-view.ts';
import { type SecretRow, secretsSection } from './secrets-view.ts';
import { statusSettingsView } from './status-settings-view.ts';

export interface ProjectPageInput {
  actor: User | undefined;
  project: Project;
  executions: readonly Execution[];
  nextCursor: string | null;
  /** What the list is narrowed to (query parameters). */
  filters?: ExecutionFilters;
  /** True on a page after the first (a cursor was given). */
  paged?: boolean;
  /** Session names by id, for external executions. */
  sessionNames?: ReadonlyMap<string, string>;
  /** Newest first. */
  sessions?: readonly SessionSummary[];
  /** Oldest first. */
  schedules?: readonly Schedule[];
  canWrite: boolean;
  /** The project's secrets and the global ones, for its owner and admins; absent for others. */
  secrets?: readonly SecretRow[];
  /** Commit-status settings, for its owner and admins; absent for others. */
  statusSettings?: StatusSettings;
  /** Settings, schedules and the webhook secret: the owner and admins. */
  canManage?: boolean;
  /** The zone a new schedule gets by default. */
  serverTimeZone?: string;
  /** Absolute origin the badge markdown points at. */
  origin: string;
  now: Date;
}

export function badgeMarkdown(origin: string, project: Pick<Project, 'id' | 'default_branch'>): string {
  const id = encodeURIComponent(project.id);
  const branch = encodeURIComponent(project.default_branch);
  return `[![build](${origin}/badges/${id}.svg?branch=${branch})](${origin}/projects/${id})`;
}

export function projectPage(input: ProjectPageInput): SafeHtml {
  const { actor, project, executions, nextCursor, sessions = [], canWrite, origin, now } = input;
  const { schedules = [], canManage = false, serverTimeZone = 'UTC', filters = {}, paged = false } = input;
  const filtered = filters.branch !== undefined || filters.status !== undefined;
  const id = encodeURIComponent(project.id);
  const body = html`<h1>${project.name}${project.visibility === 'private' ? html` <span class="tag">private</span>` : ''}</h1>
${project.description ? html`<p>${project.description}</p>` : ''}
<dl class="meta">
<dt>Repository</dt><dd><code>${project.repo}</code></dd>
<dt>Default branch</dt><dd><code>${project.default_branch}</code></dd>
<dt>Fork pull requests</dt><dd id="fork-pull-requests">${FORK_POLICY_TEXT[project.fork_pull_requests]}</dd>
<dt>Badge</dt><dd><img src="/badges/${id}.svg?branch=${encodeURIComponent(project.default_branch)}" alt="build status" height="20">
<input class="copy" readonly value="${badgeMarkdown(origin, project)}" aria-label="badge markdown">
${project.visibility === 'private' ? html`<p class="muted" id="badge-private">The project is private: visitors who are not signed in to this server (a README's readers) see the badge as <code>unknown</code>. Make the project public to show its status to everyone.</p>` : ''}</dd>
</dl>
${
  canWrite
    ? html`<form method="post" action="/projects/${id}/run" class="actions"><button type="submit">Run on ${project.default_branch}</button></form>`
    : ''
}
<h2>Executions</h2>
<form method="get" action="/projects/${id}/search" class="search" role="search" id="log-search">
<label for="log-search-q">Search the logs</label>
<input type="search" id="log-search-q" name="q" maxlength="200" placeholder="npm ERR, &quot;exit code 1&quot;">
<button type="submit">Search</button>
</form>
${executionFilters(`/projects/${id}`, filters)}
${
  executions.length === 0
    ? filtered || paged
      ? html`<p class="notice">No executions ${filtered ? 'match these filters' : 'on this page'}.</p>`
      : html`<p class="notice">No executions yet.</p>
${nextCursor === null ? connectView({ project, origin, showSecret: canManage }) : ''}`
    : executionsTable({
        id: 'executions',
        executions,
        ...(input.sessionNames ? { sessionNames: input.sessionNames } : {}),
        now,
      })
}
${olderLink(`/projects/${id}`, filters, nextCursor, paged)}
${sessions.length > 0 ? sessionsTable(sessions, now) : ''}
${canManage ? settingsForm(project) : ''}
${input.secrets ? secretsSection(project.id, input.secrets, now, actor?.role === 'admin') : ''}
${input.statusSettings ? statusSettingsView(project.id, input.statusSettings) : ''}
${schedulesView({ projectId: project.id, schedules, defaultBranch: project.default_branch, serverTimeZone, canManage, now })}`;
  return layout({ title: project.name, actor, body });
}

const FORK_POLICY_TEXT: Record<ForkPullRequestPolicy, string> = {
  approve: 'wait for a member to approve them',
  run: 'run at once',
  never: 'never run',
};

function settingsForm(project: Project): SafeHtml {
  const options = FORK_PULL_REQUEST_POLICIES.map(
    (policy) =>
      html`<option value="${policy}"${policy === project.fork_pull_requests ? html` selected` : ''}>${policy}: ${FORK_POLICY_TEXT[policy]}</option>`,
  );
  return html`<h2 id="settings">Settings</h2>
<form method="post" action="/projects/${encodeURIComponent(project.id)}/settings" id="settings-form">
<label>Pull requests from forks <select name="fork_pull_requests">${options}</select></label>
<button type="submit">Save</button>
<p class="muted">A fork's pipeline file is code nobody on the project has read. Whatever this says, its steps never get secrets.</p>
</form>`;
}

function sessionsTable(sessions: readonly SessionSummary[], now: Date): SafeHtml {
  return html`<h2>Sessions</h2>
<table class="list" id="sessions">
<thead><tr><th>Session</th><th>Executions</th><th>Latest</th><th>Created</th></tr></thead>
<tbody>${sessions.map(
    (session) => html`<tr>
<td><a href="/sessions/${encodeURIComponent(session.id)}">${session.name}</a></td>
<td>${session.executions}</td>
<td>${timeElement(session.last_execution_at, now)}</td>
<td>${timeElement(session.created_at, now)}</td>
</tr>`,
  )}</tbody>
</table>`;
}
