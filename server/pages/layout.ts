// The frame around every page: head, navigation, who is signed in.
import { packageVersion } from '../../engine/package-info.ts';
import type { User } from '../store/index.ts';
import { html, type SafeHtml } from './html.ts';

export interface LayoutInput {
  title: string;
  actor: Pick<User, 'username' | 'role'> | undefined;
  body: SafeHtml;
  /** Script files under /assets/, run in this order once the page is parsed. */
  scripts?: readonly string[];
  /** Style sheets under /assets/ loaded before app.css, which may override them. */
  styles?: readonly string[];
}

export function layout({ title, actor, body, scripts = [], styles = [] }: LayoutInput): SafeHtml {
  const session = actor
    ? html`<span class="who">${actor.username} (${actor.role})</span>
<form method="post" action="/logout" class="inline"><button type="submit" class="link">Sign out</button></form>`
    : html`<a href="/login">Sign in</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · gbcms</title>
<link rel="icon" href="data:,">
${styles.map((file) => html`<link rel="stylesheet" href="/assets/${file}">`)}
<link rel="stylesheet" href="/assets/app.css">
${scripts.map((file) => html`<script src="/assets/${file}" defer></script>`)}
</head>
<body>
<header class="top"><a href="/" class="brand">gbcms</a><nav>${session}</nav></header>
<main>
${body}
</main>
<footer class="site">gbcms ${packageVersion()}</footer>
</body>
</html>
`;
}
