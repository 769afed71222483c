// `/login`: pages are read with an API token kept in an HttpOnly cookie (`gbcms_token`).
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';

export function loginPage(input: { next: string; problem?: string }): SafeHtml {
  const body = html`<h1>Sign in</h1>
<p>Paste an API token (<code>gbcms token create</code> prints one). It is kept in a cookie only this site can
read, to show private projects and to allow terminating and re-running executions.</p>
${input.problem ? html`<p class="notice error">${input.problem}</p>` : ''}
<form method="post" action="/login" class="stacked">
<input type="hidden" name="next" value="${input.next}">
<label>API token <input type="password" name="token" autocomplete="off" required></label>
<button type="submit">Sign in</button>
</form>`;
  return layout({ title: 'Sign in', actor: undefined, body });
}
