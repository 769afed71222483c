// Reads a pushed ref as the trigger it stands for: a branch push or a tag.
import { refNameProblem } from '../git/ref-name.ts';

export type RefTarget =
  | { event: 'push'; branch: string }
  | { event: 'tag'; tag: string }
  | { problem: string };

export function classifyRef(ref: string): RefTarget {
  const problem = refNameProblem(ref);
  if (problem) return { problem: `ref ${quote(ref)} ${problem}` };
  for (const [prefix, kind] of [
    ['refs/heads/', 'branch'],
    ['refs/tags/', 'tag'],
  ] as const) {
    if (!ref.startsWith(prefix)) continue;
    const name = ref.slice(prefix.length);
    // The short name travels on alone (`when.branch`, `--branch`), so it must be safe alone too.
    const nameProblem = refNameProblem(name);
    if (nameProblem) return { problem: `${kind} name ${quote(name)} ${nameProblem}` };
    return kind === 'branch' ? { event: 'push', branch: name } : { event: 'tag', tag: name };
  }
  return { problem: `ref ${quote(ref)} is neither a branch (refs/heads/) nor a tag (refs/tags/)` };
}

/** Untrusted text made safe for a log line or a response: escaped, quoted, at most 100 characters. */
export function quote(text: string): string {
  const shown = text.length > 100 ? `${text.slice(0, 100)}...` : text;
  return JSON.stringify(shown);
}
