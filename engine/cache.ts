// Cache keys, shared by every backend: a step's cached folder is found again in a later run
// when the scope, the pipeline, the step, the folder and the contents of its key files are
// the same. The scope says whose cache it is (a server project and its trust tier, or the
// repository `gbcms run` runs in): without it, any repository that copies another's names and
// lock file would mount the other's cache and could plant code in it.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { StepCache } from './backends/types.ts';
import { formatBytes, readRegularFileInside, WorkspaceFileError } from './backends/workspace-files.ts';
import type { CacheSpec, Plan, PlannedStep } from './plan.ts';

/** Key files are hashed as they are read; a lock file of more than this is not one. */
export const MAX_KEY_FILE_BYTES = 64 * 1024 ** 2;

/** Length-prefixed, so `ab`+`c` and `a`+`bc` never hash alike. */
function field(hash: ReturnType<typeof createHash>, data: string): void {
  const bytes = Buffer.from(data);
  hash.update(`${bytes.length}:`);
  hash.update(bytes);
}

/**
 * The folder a cache is kept for, whatever its key files hold: one scope's pipeline, step and
 * path. Every key of a slot but the newest is unreachable once the key files changed.
 */
export function cacheSlot(pipeline: string, baseName: string, path: string): string {
  const hash = createHash('sha256');
  for (const text of ['gbcms-cache-slot-v1', pipeline, baseName, path]) field(hash, text);
  return hash.digest('hex');
}

/** The pure part: the key from the scope, the slot and the key files' digests (undefined: missing). */
export function cacheKey(
  scope: string,
  slot: string,
  keyFiles: ReadonlyArray<{ file: string; sha256: string | undefined }>,
): string {
  const hash = createHash('sha256');
  for (const text of ['gbcms-cache-v2', scope, slot]) field(hash, text);
  for (const { file, sha256 } of keyFiles) {
    field(hash, file);
    field(hash, sha256 ?? 'missing');
  }
  return hash.digest('hex');
}

/**
 * A key file's sha256 (hex), or undefined when it does not exist. Throws WorkspaceFileError
 * for anything but a regular file inside the workspace of at most MAX_KEY_FILE_BYTES.
 */
export async function hashKeyFile(workspace: string, file: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  const read = await readRegularFileInside(workspace, file, { maxBytes: MAX_KEY_FILE_BYTES }, (chunk) =>
    hash.update(chunk),
  );
  return read === undefined ? undefined : hash.digest('hex');
}

/** Why a step cannot use its caches: the key file, and what is wrong with it. */
export class CacheKeyFileError extends Error {
  constructor(cache: CacheSpec, cause: WorkspaceFileError) {
    super(
      `cache key file ${cause.message} (cache '${cache.path}'); key files must be regular files inside the workspace of at most ${formatBytes(MAX_KEY_FILE_BYTES)}`,
    );
    this.name = 'CacheKeyFileError';
  }
}

/**
 * Keys for one step's caches, read from `plan.workspace`; `missing` hears of each absent key
 * file. Throws CacheKeyFileError for a key file that may not be read.
 */
export async function resolveStepCaches(
  plan: Plan,
  step: PlannedStep,
  scope: string,
  missing: (message: string) => void,
): Promise<StepCache[]> {
  const caches: CacheSpec[] = step.cache ?? [];
  const resolved: StepCache[] = [];
  // One after another: a refused file ends the step, and nothing more needs reading.
  for (const cache of caches) {
    const files: Array<{ file: string; sha256: string | undefined }> = [];
    for (const file of cache.keyFiles) {
      let sha256: string | undefined;
      try {
        sha256 = await hashKeyFile(plan.workspace, file);
      } catch (error) {
        if (error instanceof WorkspaceFileError) throw new CacheKeyFileError(cache, error);
        throw error;
      }
      if (sha256 === undefined) {
        missing(`cache key file '${file}' of '${cache.path}' was not found; it counts as empty`);
      }
      files.push({ file, sha256 });
    }
    const slot = cacheSlot(plan.name, step.baseName, cache.path);
    resolved.push({ path: cache.path, scope, slot, key: cacheKey(scope, slot, files) });
  }
  return resolved;
}

const run = promisify(execFile);

/**
 * The scope of `gbcms run`'s caches: the repository it runs in, named by the real path of its
 * git top-level (the workspace's real path outside git). Two clones never share a cache, so a
 * hostile clone next to yours cannot plant code in yours; moving a clone starts it afresh.
 */
export async function repositoryCacheScope(workspace: string): Promise<string> {
  let root = workspace;
  try {
    const { stdout } = await run('git', ['rev-parse', '--show-toplevel'], { cwd: workspace });
    if (stdout.trim() !== '') root = stdout.trim();
  } catch {
    // Not a git work tree: the folder itself is the repository.
  }
  return `repository:${await realpath(root)}`;
}
