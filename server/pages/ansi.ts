// Terminal colours in step output as HTML. ansi-to-html escapes the text itself (escapeXML),
// and only ever adds <span style="..."> with colours it computed from digits, so its output
// may go into a page as markup. One converter serves every line: with `stream: false` it closes
// whatever a line left open and keeps no colour state for the next, and building one costs ten
// times converting a line (it copies its 256-colour palette), which a step printing 100,000
// lines a second cannot afford.
import Convert from 'ansi-to-html';
import { type SafeHtml, trustedHtml } from './html.ts';

/**
 * The 16 terminal colours for the log's dark background (--log-bg, #0d1117): each reads at
 * 6:1 or better there, where ansi-to-html's own blue (#00A) and red (#A00) read at 1.4:1 and
 * 2.4:1. Black is a grey: black text on a black background says nothing.
 */
export const LOG_PALETTE: Readonly<Record<number, string>> = {
  0: '#8b949e',
  1: '#ff7b72',
  2: '#3fb950',
  3: '#d29922',
  4: '#58a6ff',
  5: '#bc8cff',
  6: '#39c5cf',
  7: '#b1bac4',
  8: '#9198a1',
  9: '#ffa198',
  10: '#56d364',
  11: '#e3b341',
  12: '#79c0ff',
  13: '#d2a8ff',
  14: '#56d4dd',
  15: '#ffffff',
};

const OPTIONS = {
  escapeXML: true,
  newline: false,
  stream: false,
  fg: 'inherit',
  bg: 'inherit',
  colors: LOG_PALETTE,
} as const;

const converter = new Convert(OPTIONS);
/**
 * Printable ASCII (and tabs) without a character HTML escapes: the converter would give it back
 * unchanged, so most lines of a chatty step skip its tokenizer.
 */
const NOTHING_TO_CONVERT = /^[\t\x20\x21\x23-\x25\x28-\x3b\x3d\x3f-\x7e]*$/;

export function ansiToHtml(text: string): SafeHtml {
  return trustedHtml(NOTHING_TO_CONVERT.test(text) ? text : converter.toHtml(text));
}
