// Turns one output stream's byte chunks into lines, the way a terminal would show them.
// Pure apart from its own buffer: the caller decides when a held partial line is flushed.
import { StringDecoder } from 'node:string_decoder';

/** A line with no newline is cut here, so one endless line cannot eat memory. */
export const MAX_LINE_CHARS = 1024 * 1024;

export interface SplitLine {
  /** One line; with `several`, whole lines joined by `\n`. */
  text: string;
  /** Emitted before its newline arrived; what follows starts a new line. */
  partial: boolean;
  /**
   * The text is a run of complete lines joined by `\n`, none with a `\r` in it. A chunk of
   * plain output comes out as one such run: the hot path splits, masks and stores it in one go.
   */
  several?: true;
}

/** How much of a line may be shown now; the rest is held back (see Masker.safeCut). */
export type SafeCut = (text: string) => number;

/**
 * What a terminal leaves visible after carriage returns: the last non-empty segment.
 * `10%\r20%\r30%` shows `30%`; `done\r` (a `\r\n` whose `\n` is yet to come) shows `done`.
 */
export function visibleText(raw: string): string {
  let end = raw.length;
  while (end > 0) {
    const cr = raw.lastIndexOf('\r', end - 1);
    if (cr === -1) return raw.slice(0, end);
    if (cr < end - 1) return raw.slice(cr + 1, end);
    end = cr;
  }
  return '';
}

export class LineSplitter {
  // Invalid bytes come out as U+FFFD; a character split across chunks is held until complete.
  readonly #decoder = new StringDecoder('utf8');
  readonly #maxLineChars: number;
  readonly #safeCut: SafeCut;
  /** Undelivered text of the current line; at most one segment plus one trailing `\r`. */
  #pending = '';
  /** The current line was already partly delivered, so an empty rest adds no line. */
  #continuation = false;

  constructor(options: { maxLineChars?: number; safeCut?: SafeCut } = {}) {
    this.#maxLineChars = options.maxLineChars ?? MAX_LINE_CHARS;
    this.#safeCut = options.safeCut ?? ((text) => text.length);
  }

  get hasPending(): boolean {
    return this.#pending.length > 0;
  }

  /** Appends complete lines (and pieces of overlong ones) to `out`. */
  push(data: Buffer, out: SplitLine[]): void {
    const text = this.#decoder.write(data);
    if (text.length === 0) return;
    let start = this.#plainRun(text, out);
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      const raw = this.#pending.length > 0 ? this.#pending + piece : piece;
      this.#pending = '';
      this.#complete(raw, out);
      start = nl + 1;
    }
    if (start === text.length) return;
    const tail = start === 0 ? text : text.slice(start);
    const afterReturn = this.#pending.endsWith('\r');
    this.#pending += tail;
    // Progress bars redraw with `\r` and may never print a newline: keep only what is visible.
    if (afterReturn || tail.includes('\r')) {
      const visible = visibleText(this.#pending);
      this.#pending = this.#pending.endsWith('\r') ? `${visible}\r` : visible;
    }
    while (this.#pending.length > this.#maxLineChars) {
      const piece = this.#piece(this.#pending);
      out.push({ text: piece, partial: true });
      this.#pending = this.#pending.slice(piece.length);
      this.#continuation = true;
    }
  }

  /**
   * The common case, plain lines: everything up to the chunk's last newline as one run, when it
   * needs none of the per-line handling (`\r`, a partly delivered line, an overlong line).
   * Returns where the per-line loop goes on: 0 when there was no run.
   */
  #plainRun(text: string, out: SplitLine[]): number {
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline <= 0 || this.#continuation) return 0;
    const pending = this.#pending;
    if (pending.length + lastNewline > this.#maxLineChars) return 0;
    const head = text.slice(0, lastNewline);
    if (head.includes('\r') || pending.includes('\r')) return 0;
    this.#pending = '';
    out.push({ text: pending.length > 0 ? pending + head : head, partial: false, several: true });
    return lastNewline + 1;
  }

  /** Delivers the held line as a partial one, minus any tail that may start a secret. */
  flushPartial(out: SplitLine[]): void {
    if (this.#pending.length === 0) return;
    const text = visibleText(this.#pending);
    const cut = this.#safeCut(text);
    if (cut === 0) return;
    out.push({ text: text.slice(0, cut), partial: true });
    this.#pending = text.slice(cut);
    this.#continuation = true;
  }

  /** The stream ended: whatever is held becomes the last line. */
  end(out: SplitLine[]): void {
    const rest = this.#pending + this.#decoder.end();
    this.#pending = '';
    if (rest.length > 0) this.#complete(rest, out);
  }

  #complete(raw: string, out: SplitLine[]): void {
    let text = raw.includes('\r') ? visibleText(raw) : raw;
    while (text.length > this.#maxLineChars) {
      const piece = this.#piece(text);
      out.push({ text: piece, partial: true });
      text = text.slice(piece.length);
      this.#continuation = true;
    }
    const continued = this.#continuation;
    this.#continuation = false;
    if (text.length === 0 && continued) return;
    out.push({ text, partial: false });
  }

  /** The first at most maxLineChars of `text` that can be shown, never half a surrogate pair. */
  #piece(text: string): string {
    let end = this.#maxLineChars;
    const last = text.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end--;
    // Callers pass text whose only `\r` can be its last character, never inside the piece.
    const candidate = text.slice(0, end);
    const cut = this.#safeCut(candidate);
    // Only a secret longer than a whole line could hold everything back; cut anyway.
    return candidate.slice(0, cut > 0 ? cut : candidate.length);
  }
}
