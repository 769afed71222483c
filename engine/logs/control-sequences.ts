// The terminal control sequences a step can print, as one grammar for everything that must
// see text the way a terminal shows it: the masker (a secret with colours or backspaces between
// its characters still reads as the secret) and `gbcms run`'s terminal view (which keeps
// colours and neutralises everything else).

/** The ESC character, written out so no regular expression needs a raw control byte. */
export const ESC = '\u001b';
export const BACKSPACE = '\b';

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal control bytes is the point
const SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]*[0-~]?)/y;

/** SGR (colours and styles): `ESC [` digits and `;` or `:` separators, then `m`. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal control bytes is the point
const SGR = /^\x1b\[[0-9;:]*m$/;

/**
 * The length of the control sequence that starts at `index` (an ESC there): CSI (`ESC [` ...
 * final byte), the string sequences OSC, DCS, SOS, PM and APC (ended by BEL or ST, or by the
 * end of the text), or a two-character escape such as `ESC c`.
 */
export function sequenceLength(text: string, index: number): number {
  SEQUENCE.lastIndex = index;
  const match = SEQUENCE.exec(text);
  return match ? match[0].length : 1;
}

export function isSgr(sequence: string): boolean {
  return SGR.test(sequence);
}

/** Whether `text` may hold something a terminal would not show as it is written. */
export function mayHideText(text: string): boolean {
  return text.includes(ESC) || text.includes(BACKSPACE);
}

/**
 * The text a terminal shows for `text` (control sequences take no room, a backspace steps back
 * over the character before it on the same line), and for each shown character the index in
 * `text` where it was written.
 */
export function visibleText(text: string): { visible: string; origin: number[] } {
  const chars: string[] = [];
  const origin: number[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === ESC) {
      i += sequenceLength(text, i);
      continue;
    }
    if (char === BACKSPACE) {
      if (chars.length > 0 && chars[chars.length - 1] !== '\n') {
        chars.pop();
        origin.pop();
      }
      i += 1;
      continue;
    }
    chars.push(char);
    origin.push(i);
    i += 1;
  }
  return { visible: chars.join(''), origin };
}
