// The session page's Keys section, for writers of the project: the session's keys (prefix,
// dates, never the key), a button that makes one, the new key shown once, and a Revoke button
// per active key for those who may revoke (the project's owner and admins).
import type { SessionKeyInfo } from '../store/index.ts';
import { timeElement } from './format.ts';
import { html, type SafeHtml } from './html.ts';

export interface SessionKeysInput {
  sessionId: string;
  keys: readonly SessionKeyInfo[];
  canRevoke: boolean;
  /** A key just made: shown this once. */
  newKey?: string;
  /** The server's URL, for the example that uses the new key. */
  serverUrl: string;
}

function keyState(key: SessionKeyInfo, now: Date): SafeHtml | string {
  if (key.revoked_at !== null) return html`revoked ${timeElement(key.revoked_at, now)}`;
  if (Date.parse(key.expires_at) <= now.getTime()) return html`expired ${timeElement(key.expires_at, now)}`;
  return html`expires ${timeElement(key.expires_at, now)}`;
}

export function sessionKeysSection(input: SessionKeysInput, now: Date): SafeHtml {
  const { keys, canRevoke, newKey, serverUrl } = input;
  const id = encodeURIComponent(input.sessionId);
  const rows = keys.map(
    (key) => html`<tr data-key="${key.id}">
<td><code>gbcmsk_${key.prefix}…</code></td>
<td>${timeElement(key.created_at, now)}</td>
<td class="key-state">${keyState(key, now)}</td>
<td>${
      canRevoke && key.revoked_at === null
        ? html`<form method="post" action="/sessions/${id}/keys/${encodeURIComponent(key.id)}/revoke"><button type="submit" class="danger">Revoke</button></form>`
        : ''
    }</td>
</tr>`,
  );
  return html`<h2>Session keys</h2>
<p class="hint">A session key creates executions in this session and reports to them, and does nothing else: paste it in a notebook instead of a token. It lapses 14 days after the newest execution of the session started.</p>
${
  newKey === undefined
    ? ''
    : html`<div class="notice" id="new-session-key"><p>The new key, shown this once:</p>
<pre><code>${newKey}</code></pre>
<pre><code>from gbcms_report import Reporter
with Reporter("${serverUrl}", "${newKey}", name="run 1") as report:
    report.metric("loss", 0.5, step=1)</code></pre></div>`
}
${
  keys.length === 0
    ? html`<p class="notice">No keys yet.</p>`
    : html`<table class="list" id="session-keys">
<thead><tr><th>Key</th><th>Created</th><th>State</th><th></th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}
<form method="post" action="/sessions/${id}/keys" id="session-key-form"><button type="submit">Make a session key</button></form>`;
}
