// Checks on the raw bytes and text, before any YAML parsing: each refuses input that would
// make the parser slow, confused or crash, and says where the problem is.

export interface TextPosition {
  line: number;
  col: number;
}

/** Line and column (1-based) of an offset, counting code units since the last newline. */
export function positionAt(text: string | Uint8Array, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    const unit = typeof text === 'string' ? text.charCodeAt(i) : text[i];
    if (unit === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence, or -1. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] ?? 0;
    let length: number;
    let min: number;
    if (lead < 0x80) {
      i++;
      continue;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
      min = 0x80;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      min = 0x800;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      min = 0x10000;
    } else {
      return i;
    }
    let code = lead & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return i;
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are all invalid.
    if (code < min || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return i;
    i += length;
  }
  return -1;
}

/** Offset of the first lone UTF-16 surrogate in a string, or -1. */
export function loneSurrogateOffset(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return i;
  }
  return -1;
}

// YAML allows tab, LF, CR and NEL among the C0/C1 controls; everything else marks a file
// that is not text (or text the parser would reject with a worse message).
function isForbidden(unit: number): boolean {
  if (unit < 0x20) return unit !== 0x09 && unit !== 0x0a && unit !== 0x0d;
  if (unit >= 0x7f && unit <= 0x9f) return unit !== 0x85;
  return unit === 0xfffe || unit === 0xffff;
}

/** Offset and code point of the first character YAML forbids, or undefined. */
export function forbiddenCharacter(text: string): { offset: number; codePoint: number } | undefined {
  for (let offset = 0; offset < text.length; offset++) {
    const unit = text.charCodeAt(offset);
    if (isForbidden(unit)) return { offset, codePoint: unit };
  }
  return undefined;
}

/** `U+0000` style name of a character, for messages. */
export function codePointName(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}
