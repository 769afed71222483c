// The page for a failed page request (not found, signed out, ...).
import { html, type SafeHtml } from './html.ts';
import { layout } from './layout.ts';

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Sign in needed',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  429: 'Too many requests',
};

export function errorPage(statusCode: number, message: string): SafeHtml {
  const title = TITLES[statusCode] ?? (statusCode >= 500 ? 'Server error' : 'Error');
  return layout({
    title,
    actor: undefined,
    body: html`<h1>${title}</h1>
<p class="notice">${message}</p>
<p><a href="/">All projects</a></p>`,
  });
}
