// One definition of "control character" for every check on untrusted or admin-given text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
export function hasControlCharacter(text: string): boolean {
  return CONTROL.test(text);
}

/** `text` with each control character replaced by '?': safe to print on someone's terminal. */
export function withoutControlCharacters(text: string): string {
  return text.replace(new RegExp(CONTROL.source, 'g'), '?');
}
