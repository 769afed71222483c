// Step output shown on a terminal must not drive the terminal. A step controls its own bytes:
// cursor movement could overwrite the live status block (and so spoof a step's status), OSC 52
// writes the user's clipboard, OSC 0/2 the window title. Colours (SGR, `ESC [ ... m`) are kept;
// every other control sequence and character is shown as a visible symbol instead. Log files
// and output that is not a terminal keep the original bytes.

/** SGR only: `ESC [` digits and `;` or `:` separators, then `m`. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal control bytes is the point
const SGR = /^\x1b\[[0-9;:]*m/;

/** `ESC [` then parameters, intermediates and one final byte: any CSI sequence. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal control bytes is the point
const CSI = /^\x1b\[[0-?]*[ -/]*[@-~]?/;

/** OSC, DCS, SOS, PM, APC: a string ended by BEL or ST (`ESC \`), or by the end of the text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal control bytes is the point
const STRING_SEQUENCE = /^\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?/;

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
    if (char === '\x1b') {
      const rest = line.slice(i);
      const sgr = SGR.exec(rest);
      if (sgr) {
        out += sgr[0];
        i += sgr[0].length;
        continue;
      }
      const sequence = CSI.exec(rest) ?? STRING_SEQUENCE.exec(rest);
      const length = sequence ? sequence[0].length : 1;
      out += symbolFor('\x1b') + neutralise(line.slice(i + 1, i + length));
      i += length;
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
