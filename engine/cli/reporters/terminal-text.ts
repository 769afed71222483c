// Step output shown on a terminal must not drive the terminal. A step controls its own bytes:
// cursor movement could overwrite the live status block (and so spoof a step's status), OSC 52
// writes the user's clipboard, OSC 0/2 the window title. Colours (SGR, `ESC [ ... m`) are kept;
// every other control sequence and character is shown as a visible symbol instead. Log files
// and output that is not a terminal keep the original bytes.
import { ESC, isSgr, sequenceLength } from '../../logs/control-sequences.ts';

/** Everything a terminal acts on: C0 except tab, DEL, C1 (which some terminals read as ESC forms). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal control bytes is the point
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

/** The visible stand-in of a control character: the Unicode control pictures (␛, ␇, ␈...). */
function symbolFor(char: string): string {
  const code = char.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code);
  if (code === 0x7f) return '\u2421';
  return '\ufffd';
}

/**
 * The text as a terminal may show it. A carriage return inside a line is how progress bars
 * redraw themselves: what a terminal would have left visible is the part after the last one.
 */
export function terminalText(text: string): string {
  if (!CONTROL.test(text)) return text;
  const visible = text.endsWith('\r') ? text.replace(/\r+$/, '') : text;
  const line = visible.slice(visible.lastIndexOf('\r') + 1);
  let out = '';
  let i = 0;
  while (i < line.length) {
    const char = line[i] as string;
    if (char === ESC) {
      const sequence = line.slice(i, i + sequenceLength(line, i));
      out += isSgr(sequence) ? sequence : symbolFor(ESC) + neutralise(sequence.slice(1));
      i += sequence.length;
      continue;
    }
    out += CONTROL.test(char) ? symbolFor(char) : char;
    i += 1;
  }
  return out;
}

/** The rest of a refused sequence stays readable, its own control characters made visible. */
function neutralise(text: string): string {
  let out = '';
  for (const char of text) out += CONTROL.test(char) ? symbolFor(char) : char;
  return out;
}

/** Each line of `text` made safe; the line breaks themselves are kept. */
export function terminalLines(text: string): string {
  return text.split('\n').map(terminalText).join('\n');
}

/**
 * Writes through terminalLines when `out` is a terminal, and passes the bytes on unchanged
 * when it is a file or a pipe, where nothing interprets them.
 */
export function terminalWriter(out: NodeJS.WritableStream & { isTTY?: boolean }): (text: string) => void {
  return out.isTTY === true ? (text) => out.write(terminalLines(text)) : (text) => out.write(text);
}
