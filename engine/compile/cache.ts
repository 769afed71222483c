// Cache entries as the backends want them: one spelling per folder and per key file. Hashing
// the key files is the backends' job at setupRun; the plan stays pure.
import { posix } from 'node:path';
import type { CacheSpec } from '../plan.ts';
import { normaliseRelativePath } from './artifacts.ts';

/** `./node_modules/` and `node_modules` keep the same folder; absolute paths stay absolute. */
export function normaliseCachePath(path: string): string {
  const normal = posix.normalize(path.replaceAll('\\', '/'));
  const trimmed = normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
  return trimmed.startsWith('/') ? trimmed : trimmed.replace(/^(?:\.\/)+/, '');
}

export function planCache(entry: { path: string; key?: string[] }): CacheSpec {
  return { path: normaliseCachePath(entry.path), keyFiles: (entry.key ?? []).map(normaliseRelativePath) };
}
