// Checks for the names and ids that arrive in pushes and webhooks before any of them reaches a
// git command line. They are stricter than git where git's rules are surprising (`@{`, `:`).

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const ZERO_ID = /^(?:0{40}|0{64})$/;

/** A full SHA-1 or SHA-256 object id in lowercase hex. */
export function isObjectId(value: string): boolean {
  return OBJECT_ID.test(value);
}

/** The all-zeros id git uses for "no object": a created ref's old value, a deleted ref's new one. */
export function isZeroObjectId(value: string): boolean {
  return ZERO_ID.test(value);
}

/**
 * Why `name` is not an acceptable ref or branch/tag name, or undefined when it is.
 * Follows `git check-ref-format` and also refuses a leading `-` (option injection) and `+`/`:`
 * (refspec syntax), so a name can be passed to `git fetch` as one refspec.
 */
export function refNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 1024) return 'is longer than 1024 characters';
  if (name.startsWith('-')) return "starts with '-'";
  if (name.startsWith('+')) return "starts with '+'";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u0020\u007f]/.test(name)) return 'contains a space or control character';
  if (/[~^:?*[\\]/.test(name)) return 'contains one of ~ ^ : ? * [ \\';
  if (name.includes('..')) return "contains '..'";
  if (name.includes('@{') || name === '@') return "contains '@{'";
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'has an empty path component';
  if (name.endsWith('.')) return "ends with '.'";
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return "has a component starting with '.'";
    if (part.endsWith('.lock')) return "has a component ending with '.lock'";
  }
  return undefined;
}
