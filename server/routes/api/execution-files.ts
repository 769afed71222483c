// Where an execution's files are on disk: `<data>/<logs_dir>/` holds the step logs (at the
// paths the steps table records) and `artifacts/`. Paths from the database are still checked
// to stay inside that folder: a row is not a reason to read anywhere on the disk.
import { isAbsolute, relative, resolve } from 'node:path';
import type { Execution } from '../../store/index.ts';

export function executionDir(dataDir: string, execution: Pick<Execution, 'logs_dir'>): string {
  const dir = resolve(dataDir, execution.logs_dir);
  if (!isInside(dataDir, dir))
    throw new Error(`execution folder ${execution.logs_dir} is outside the data directory`);
  return dir;
}

export function artifactsDir(dataDir: string, execution: Pick<Execution, 'logs_dir'>): string {
  return resolve(executionDir(dataDir, execution), 'artifacts');
}

/** `relativePath` resolved under `dir`, or undefined when it would leave it. */
export function resolveInside(dir: string, relativePath: string): string | undefined {
  const path = resolve(dir, relativePath);
  return isInside(dir, path) ? path : undefined;
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(resolve(dir), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
