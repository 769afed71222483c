// Replaces secret values in log text. Pure: no I/O, no clock. Built once per step log. Most
// text holds no secret, so a multi-pattern search that skips ahead (Wu-Manber) tells that
// first, several times faster than the RegExp; only text with a hit goes through the replace.
import { mayHideText, visibleText } from './control-sequences.ts';

/** Shorter values are refused by the engine before a run starts; masking them would shred logs. */
export const MIN_SECRET_LENGTH = 4;
export const MASK = '***';

export interface Masker {
  /** Whether there is anything to mask at all. */
  readonly active: boolean;
  mask(text: string): string;
  /**
   * How much of `text` can be masked and shown now. The rest is a tail that could be the start
   * of a secret whose end has not arrived yet; a match is never cut in two.
   */
  safeCut(text: string): number;
}

/** Every form in which `secret` may show up in a log line, longest first. */
export function secretForms(secret: string): string[] {
  if (secret.length < MIN_SECRET_LENGTH) return [];
  const forms = new Set<string>();
  const add = (form: string) => {
    // A log line never holds a newline, so a form with one could never match.
    if (form.length >= MIN_SECRET_LENGTH && !/[\r\n]/.test(form)) forms.add(form);
  };
  add(secret);
  for (const form of base64Forms(Buffer.from(secret, 'utf8'))) add(form);
  for (const form of urlForms(secret)) add(form);
  // A multiline secret (a PEM key) reaches the log one line at a time.
  if (/[\r\n]/.test(secret)) for (const line of secret.split(/\r?\n|\r/)) add(line);
  return [...forms].sort((a, b) => b.length - a.length);
}

/**
 * The exact encodings (standard and url-safe, with and without padding), plus the part of the
 * encoding that stays the same whatever bytes surround the secret in a longer base64 string,
 * for each of the three alignments it can sit at.
 */
function base64Forms(bytes: Buffer): string[] {
  const standard = bytes.toString('base64');
  const forms = [standard, standard.replace(/=+$/, '')];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes])
      .toString('base64')
      .replace(/=+$/, '');
    // Characters that mix in the unknown bytes before (first 2 or 3) or after (last one) the secret.
    const skip = [0, 2, 3][shift] ?? 0;
    const trailing = (shift + bytes.length) % 3 === 0 ? 0 : 1;
    forms.push(encoded.slice(skip, encoded.length - trailing));
  }
  return forms.flatMap((form) => [form, toUrlSafe(form)]);
}

function toUrlSafe(base64: string): string {
  return base64.replace(/\+/g, '-').replace(/\//g, '_');
}

function urlForms(secret: string): string[] {
  let encoded: string;
  try {
    encoded = encodeURIComponent(secret);
  } catch {
    return []; // lone surrogate: no URL form exists
  }
  if (encoded === secret) return [];
  return [
    encoded,
    encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
    encoded.replace(/%20/g, '+'),
  ];
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

export function createMasker(secrets: readonly string[]): Masker {
  const patterns = [...new Set(secrets.flatMap(secretForms))].sort((a, b) => b.length - a.length);
  if (patterns.length === 0) {
    return { active: false, mask: (text) => text, safeCut: (text) => text.length };
  }
  // Longest first, so a secret that contains another is masked whole.
  const matcher = new RegExp(patterns.map(escapeRegExp).join('|'), 'g');
  const longest = patterns[0]?.length ?? 0;
  // Every form contains a minimal one, so finding none of those proves the text is clean.
  const finder = new PatternFinder(
    patterns.filter((p) => !patterns.some((q) => q.length < p.length && p.includes(q))),
  );

  const startsSecret = (tail: string) => patterns.some((p) => p.length > tail.length && p.startsWith(tail));

  return {
    active: true,
    mask(text) {
      const masked = finder.find(text) === -1 ? text : text.replace(matcher, MASK);
      return mayHideText(masked) ? maskVisible(masked, finder, matcher) : masked;
    },
    safeCut(text) {
      let cut = text.length;
      for (let i = Math.max(0, text.length - longest + 1); i < text.length; i++) {
        if (startsSecret(text.slice(i))) {
          cut = i;
          break;
        }
      }
      if (cut === text.length) return cut;
      for (const match of text.matchAll(matcher)) {
        const end = match.index + match[0].length;
        if (match.index < cut && end > cut) cut = end;
      }
      return cut;
    },
  };
}

/**
 * Masks secrets a reader would see although escapes or backspaces sit between their characters
 * (`hun\x1b[0mter2` shows as `hunter2` on a terminal and in the page's ANSI rendering): found
 * on the visible text, masked from the first to the last of their bytes, what lies between too.
 */
function maskVisible(text: string, finder: PatternFinder, matcher: RegExp): string {
  const { visible, origin } = visibleText(text);
  if (finder.find(visible) === -1) return text;
  let out = '';
  let from = 0;
  for (const match of visible.matchAll(matcher)) {
    const start = origin[match.index] as number;
    const end = (origin[match.index + match[0].length - 1] as number) + 1;
    out += text.slice(from, start) + MASK;
    from = end;
  }
  return out + text.slice(from);
}

/** Hash of two adjacent characters; other planes share buckets, which only shortens skips. */
function pairHash(a: number, b: number): number {
  return ((a & 0xff) << 8) | (b & 0xff);
}

/**
 * Wu-Manber search for several literal strings: looks at the last two characters of a window as
 * long as the shortest pattern and skips as far as no pattern could end inside it. Plain text
 * (no secret's characters in a row) is crossed a window at a time.
 */
export class PatternFinder {
  readonly #window: number;
  readonly #shift = new Uint8Array(0x10000);
  readonly #candidates = new Map<number, string[]>();

  constructor(patterns: readonly string[]) {
    const shortest = Math.min(...patterns.map((p) => p.length));
    if (patterns.length === 0 || shortest < 2)
      throw new Error('PatternFinder needs patterns of 2 characters or more');
    // Skips are stored in a byte; a longer window would gain nothing measurable.
    const window = Math.min(shortest, 255);
    this.#window = window;
    this.#shift.fill(window - 1);
    for (const pattern of patterns) {
      for (let end = 1; end < window; end++) {
        const hash = pairHash(pattern.charCodeAt(end - 1), pattern.charCodeAt(end));
        const shift = window - 1 - end;
        if (shift < (this.#shift[hash] ?? 0)) this.#shift[hash] = shift;
        if (shift === 0) {
          const bucket = this.#candidates.get(hash);
          if (bucket) bucket.push(pattern);
          else this.#candidates.set(hash, [pattern]);
        }
      }
    }
  }

  /** Where the first pattern occurrence found starts, or -1 when the text holds none. */
  find(text: string): number {
    const window = this.#window;
    const shifts = this.#shift;
    const last = text.length;
    let end = window - 1;
    while (end < last) {
      const hash = pairHash(text.charCodeAt(end - 1), text.charCodeAt(end));
      const shift = shifts[hash] as number;
      if (shift > 0) {
        end += shift;
        continue;
      }
      const start = end - window + 1;
      for (const pattern of this.#candidates.get(hash) ?? [])
        if (text.startsWith(pattern, start)) return start;
      end += 1;
    }
    return -1;
  }
}

/** One-off masking; a log should build its masker once with createMasker. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  return createMasker(secrets).mask(text);
}
