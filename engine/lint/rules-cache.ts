// Cache paths: a cached folder is mounted (or copied) at its path, so it must not climb out of
// the workspace with `..`, and two caches of one step must not claim the same folder. Key files
// are read from the workspace on the host, so they stay inside it.
import { normaliseCachePath } from '../config/paths.ts';
import { asList, asMapping, type Mapping } from './data.ts';
import type { Reporter } from './report.ts';
import { unsafePathProblem } from './rules-artifacts.ts';

/** The problem with a cache path, or undefined when it names a folder gbcms can keep. */
export function cachePathProblem(path: string): string | undefined {
  if (path.split(/[\\/]/).includes('..')) return `'${path}' contains '..'; name the folder directly`;
  const normal = normaliseCachePath(path);
  if (normal === '.' || normal === '/')
    return `'${path}' is the whole workspace or filesystem; name a folder inside it`;
  return undefined;
}

export function checkCaches(name: string, step: Mapping, reporter: Reporter): void {
  const base = ['steps', name, 'cache'];
  const seen = new Map<string, number>();
  for (const [index, item] of asList(step.cache).entries()) {
    const entry = asMapping(item);
    if (!entry) continue;
    for (const [keyIndex, file] of asList(entry.key).entries()) {
      if (typeof file !== 'string' || file === '') continue;
      const problem = unsafePathProblem(file);
      if (problem)
        reporter.error('GBCMS_CACHE_UNSAFE_PATH', [...base, index, 'key', keyIndex], `key file ${problem}`);
    }
    if (typeof entry.path !== 'string' || entry.path === '') continue;
    const where = [...base, index, 'path'];
    const problem = cachePathProblem(entry.path);
    if (problem) {
      reporter.error('GBCMS_CACHE_UNSAFE_PATH', where, problem);
      continue;
    }
    const path = normaliseCachePath(entry.path);
    const first = seen.get(path);
    if (first === undefined) seen.set(path, index);
    else reporter.error('GBCMS_CACHE_DUPLICATE', where, `'${path}' is already kept by cache ${first}`);
  }
}
