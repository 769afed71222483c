// Files a push changed, from the commits its payload lists (GitHub's, Gitea's and GitLab's
// commits all carry added, modified and removed).
import { asObject, stringsAt } from './payload.ts';

/**
 * The union of the commits' added, modified and removed files. Undefined (unknown) when the
 * forge may have cut the list short, an item is malformed, or the list is empty: a new branch
 * or a forced push back to an older commit lists none, yet may well change files.
 */
export function listedChangedPaths(commits: unknown, complete: boolean): string[] | undefined {
  if (!complete || !Array.isArray(commits) || commits.length === 0) return undefined;
  const paths = new Set<string>();
  for (const item of commits) {
    const commit = asObject(item);
    for (const key of ['added', 'modified', 'removed']) {
      const listed = stringsAt(commit, key);
      if (!listed) return undefined;
      for (const path of listed) paths.add(path);
    }
  }
  return [...paths];
}
