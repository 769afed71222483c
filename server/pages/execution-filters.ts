// The filter form and the paging links of an executions list: filters are query parameters
// (`branch`, `status`), kept on the link to older executions, so a filtered list pages as one.
import { type RunStatus, STEP_STATUSES } from '../../engine/status.ts';
import { html, type SafeHtml } from './html.ts';

export interface ExecutionFilters {
  branch?: string;
  status?: RunStatus;
}

export function filterQuery(filters: ExecutionFilters, cursor?: string): string {
  const params = new URLSearchParams();
  if (filters.branch !== undefined) params.set('branch', filters.branch);
  if (filters.status !== undefined) params.set('status', filters.status);
  if (cursor !== undefined) params.set('cursor', cursor);
  const query = params.toString();
  return query === '' ? '' : `?${query}`;
}

export function executionFilters(action: string, filters: ExecutionFilters): SafeHtml {
  const options = STEP_STATUSES.map(
    (status) =>
      html`<option value="${status}"${status === filters.status ? html` selected` : ''}>${status}</option>`,
  );
  return html`<form method="get" action="${action}" class="filters" id="execution-filters">
<label>Branch <input type="text" name="branch" maxlength="255" value="${filters.branch ?? ''}" placeholder="any"></label>
<label>Status <select name="status"><option value="">any</option>${options}</select></label>
<button type="submit">Filter</button>
${filters.branch !== undefined || filters.status !== undefined ? html`<a href="${action}">Clear</a>` : ''}
</form>`;
}

/** "Older executions" (with the filters), and back to the newest once paged. */
export function olderLink(
  path: string,
  filters: ExecutionFilters,
  nextCursor: string | null,
  paged: boolean,
): SafeHtml {
  if (nextCursor === null && !paged) return html``;
  return html`<nav class="pages" aria-label="Executions pages">
${paged ? html`<a href="${path}${filterQuery(filters)}" id="newest-executions">Newest</a>` : ''}
${nextCursor === null ? '' : html`<a href="${path}${filterQuery(filters, nextCursor)}" id="older-executions" rel="next">Older executions</a>`}
</nav>`;
}
