// How to connect a repository, on the page of a project with no executions yet: the webhook
// URL per forge, the secret (only for those who manage the project), the plain-git hook
// command filled in, and how to give steps secrets.
import type { Project } from '../store/index.ts';
import { html, type SafeHtml } from './html.ts';

export interface ConnectViewInput {
  project: Pick<Project, 'id' | 'webhook_secret'>;
  /** Absolute origin the forges and the hook reach the server at. */
  origin: string;
  /** The owner and admins see the secret; other readers are told whom to ask. */
  showSecret: boolean;
}

export function connectView({ project, origin, showSecret }: ConnectViewInput): SafeHtml {
  const id = encodeURIComponent(project.id);
  const hook = (forge: string) => `${origin}/hooks/${forge}/${id}`;
  const secret = showSecret
    ? html`<code id="webhook-secret">${project.webhook_secret}</code>`
    : html`<span class="muted">shown to the project's owner and admins only</span>`;
  const secretOption = showSecret
    ? `--secret ${project.webhook_secret}`
    : '--secret-file FILE_WITH_THE_SECRET';
  return html`<section id="connect">
<h2>Connect a repository</h2>
<p>Nothing has run yet. Point the repository's pushes at gbcms with one of these, then push.</p>
<dl class="meta">
<dt>Webhook secret</dt><dd>${secret}</dd>
</dl>
<h3>GitHub</h3>
<p>Settings → Webhooks → Add webhook:</p>
<dl class="meta">
<dt>Payload URL</dt><dd><code id="github-webhook-url">${hook('github')}</code></dd>
<dt>Content type</dt><dd><code>application/json</code></dd>
<dt>Secret</dt><dd>the webhook secret above</dd>
<dt>Events</dt><dd>Let me select individual events: <strong>Pushes</strong> and <strong>Pull requests</strong></dd>
</dl>
<h3>Gitea and Forgejo</h3>
<p>Settings → Webhooks → Add webhook → Gitea: target URL <code>${hook('gitea')}</code>, content
type <code>application/json</code>, the webhook secret above, events <em>Push</em> and <em>Pull request</em>.</p>
<h3>GitLab</h3>
<p>Settings → Webhooks: URL <code>${hook('gitlab')}</code>, the webhook secret above as the secret
token, triggers <em>Push events</em>, <em>Tag push events</em> and <em>Merge request events</em>.</p>
<h3>A bare repository on a server (plain git)</h3>
<p>On the machine that holds it:</p>
<pre><code id="hook-install">gbcms hook install /path/to/repository.git --url ${origin} --project ${project.id} ${secretOption}</code></pre>
<p>Each push then prints the execution's page in the pusher's terminal. If the repository mirrors one on a
forge, name that repository under <a href="#commit-statuses">Commit statuses</a> (shown to the project's owner and admins) and pushes report their status there.</p>
<h3>Secrets for steps</h3>
<p>Steps get the secrets they name (<code>secrets: [NAME]</code>) from the server:</p>
<pre><code>gbcms secret set NAME --project ${project.id}</code></pre>
</section>`;
}
