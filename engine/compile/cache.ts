// Cache entries as the backends want them: one spelling per folder and per key file. Hashing
// the key files is the backends' job at setupRun; the plan stays pure.
import { normaliseCachePath, normaliseRelativePath } from '../config/paths.ts';
import type { CacheSpec } from '../plan.ts';

export function planCache(entry: { path: string; key?: string[] }): CacheSpec {
  return { path: normaliseCachePath(entry.path), keyFiles: (entry.key ?? []).map(normaliseRelativePath) };
}
