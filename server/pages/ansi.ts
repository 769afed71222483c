// Terminal colours in step output as HTML. ansi-to-html escapes the text itself (escapeXML),
// and only ever adds <span style="..."> with colours it computed from digits, so its output
// may go into a page as markup. A fresh converter per line: no colour state leaks between
// lines or steps.
import Convert from 'ansi-to-html';
import { type SafeHtml, trustedHtml } from './html.ts';

const OPTIONS = { escapeXML: true, newline: false, stream: false, fg: 'inherit', bg: 'inherit' } as const;

export function ansiToHtml(text: string): SafeHtml {
  return trustedHtml(new Convert(OPTIONS).toHtml(text));
}
