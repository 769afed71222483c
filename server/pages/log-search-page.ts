// `/projects/:id/search`: the lines of a project's logs that match a query, newest first, the
// matches marked, each linking to its line on the run page.
import type { LogMatch, Project, User } from '../store/index.ts';
import { timeElement } from './format.ts';
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';

export interface SearchResult extends LogMatch {
  /** [start, end) character ranges to mark in text. */
  highlights: ReadonlyArray<readonly [number, number]>;
  url: string;
}

export interface LogSearchPageInput {
  actor: User | undefined;
  project: Project;
  /** What was typed; absent before the first search. */
  q?: string;
  /** Only this execution's lines. */
  execution?: string;
  results: readonly SearchResult[];
  /** Link to older matches, if there are more. */
  olderUrl?: string;
  now: Date;
}

/** The line with its matches in <mark>, everything escaped. */
export function highlighted(text: string, ranges: ReadonlyArray<readonly [number, number]>): SafeHtml {
  const parts: SafeHtml[] = [];
  let at = 0;
  for (const [start, end] of ranges) {
    parts.push(html`${text.slice(at, start)}<mark>${text.slice(start, end)}</mark>`);
    at = end;
  }
  parts.push(html`${text.slice(at)}`);
  return html`${parts}`;
}

export function logSearchPage(input: LogSearchPageInput): SafeHtml {
  const { project, q, results, now } = input;
  const id = encodeURIComponent(project.id);
  const items = results.map(
    (result) => html`<li class="search-result">
<p class="where"><a href="${result.url}">#${result.execution_number} · ${result.step} · line ${result.line}</a> ${timeElement(result.created_at, now)}</p>
<pre class="search-line"><code>${highlighted(result.text, result.highlights)}</code></pre>
</li>`,
  );
  const body = html`<p><a href="/projects/${id}">${project.name}</a></p>
<h1>Search the logs</h1>
<form method="get" action="/projects/${id}/search" class="search" role="search" id="log-search">
<label for="log-search-q">Words or "a phrase"</label>
<input type="search" id="log-search-q" name="q" maxlength="200" value="${q ?? ''}">
${input.execution !== undefined ? html`<input type="hidden" name="execution" value="${input.execution}">` : ''}
<button type="submit">Search</button>
</form>
${input.execution !== undefined ? html`<p class="muted">In one execution only. <a href="/projects/${id}/search?q=${encodeURIComponent(q ?? '')}">Search every execution</a></p>` : ''}
${
  q === undefined
    ? ''
    : results.length === 0
      ? html`<p class="notice" id="search-empty">No line matches.</p>`
      : html`<ol class="search-results" id="search-results">${items}</ol>`
}
${input.olderUrl ? html`<nav class="pages" aria-label="Search pages"><a href="${input.olderUrl}" rel="next" id="older-matches">Older matches</a></nav>` : ''}`;
  return layout({ title: `Search · ${project.name}`, actor: input.actor, body });
}
