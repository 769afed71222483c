// The frame around every page: head, navigation, who is signed in.
import type { User } from '../store/index.ts';
import { html, type SafeHtml } from './html.ts';

export interface LayoutInput {
  title: string;
  actor: Pick<User, 'username' | 'role'> | undefined;
  body: SafeHtml;
  /** Script files under /assets/. */
  scripts?: readonly string[];
}

export function layout({ title, actor, body, scripts = [] }: LayoutInput): SafeHtml {
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
<link rel="stylesheet" href="/assets/app.css">
${scripts.map((file) => html`<script src="/assets/${file}" defer></script>`)}
</head>
<body>
<header class="top"><a href="/" class="brand">gbcms</a><nav>${session}</nav></header>
<main>
${body}
</main>
</body>
</html>
`;
}
