// One spelling per path written in a pipeline file. Shared by the linter, which must see
// `./node_modules/` and `node_modules` as the same folder to report two caches keeping it, and
// by the compiler, which puts that one spelling in the plan.
import { posix } from 'node:path';

/** `./dist/` -> `dist`: one spelling per path, so the same artifact is not collected twice. */
export function normaliseRelativePath(path: string): string {
  return path.replace(/^(?:\.\/)+/, '').replace(/\/+$/, '');
}

/** `./node_modules/` and `node_modules` keep the same folder; absolute paths stay absolute. */
export function normaliseCachePath(path: string): string {
  const normal = posix.normalize(path.replaceAll('\\', '/'));
  const trimmed = normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
  return trimmed.startsWith('/') ? trimmed : trimmed.replace(/^(?:\.\/)+/, '');
}
