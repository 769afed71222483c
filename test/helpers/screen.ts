// What a terminal would show after some output: a grid of lines that obeys the few control
// sequences gbcms's live view writes (cursor up, to column, erase line, newline, carriage
// return) and ignores the rest (colours, cursor visibility). Enough to tell whether a
// redrawn region was erased or left behind in the scrollback.

import { Writable } from 'node:stream';

const ESC = String.fromCharCode(0x1b);
const CSI = new RegExp(`^${ESC}\\[([?]?)([0-9;]*)([A-Za-z])`);

export function screen(output: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  const put = (ch: string) => {
    const line = lines[row] ?? '';
    lines[row] = line.padEnd(col).slice(0, col) + ch + line.slice(col + 1);
    col += 1;
  };
  for (let i = 0; i < output.length; ) {
    const rest = output.slice(i);
    const csi = CSI.exec(rest);
    if (csi) {
      const [all, privateMark, params, command] = csi;
      const n = Number.parseInt(params || '1', 10);
      if (!privateMark) {
        if (command === 'A') row = Math.max(0, row - n);
        else if (command === 'G') col = n - 1;
        else if (command === 'K') lines[row] = params === '2' ? '' : (lines[row] ?? '').slice(0, col);
      }
      i += all.length;
      continue;
    }
    const ch = output[i] as string;
    if (ch === '\n') {
      row += 1;
      col = 0;
      if (lines[row] === undefined) lines[row] = '';
    } else if (ch === '\r') col = 0;
    else if (ch === ESC) {
      // Another escape (OSC, a lone ESC): not drawn.
    } else put(ch);
    i += 1;
  }
  return lines.map((line) => line.trimEnd());
}

/** A stream that says it is a terminal (100 columns) and keeps what is written to it. */
export function fakeTerminal() {
  const chunks: string[] = [];
  const out = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    { isTTY: true, columns: 100, rows: 40 },
  );
  return { out, text: () => chunks.join('') };
}
