// Cache keys, shared by every backend: a step's cached folder is found again in a later run
// when the pipeline, the step, the folder and the contents of its key files are the same.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import type { StepCache } from './backends/types.ts';
import type { CacheSpec, Plan, PlannedStep } from './plan.ts';

/** Length-prefixed, so `ab`+`c` and `a`+`bc` never hash alike. */
function field(hash: ReturnType<typeof createHash>, data: string | Buffer): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  hash.update(`${bytes.length}:`);
  hash.update(bytes);
}

/** The pure part: the key from the key files' contents (undefined: missing, counted as empty). */
export function cacheKey(
  pipeline: string,
  baseName: string,
  path: string,
  keyFiles: ReadonlyArray<{ file: string; content: Buffer | undefined }>,
): string {
  const hash = createHash('sha256');
  for (const text of ['gbcms-cache-v1', pipeline, baseName, path]) field(hash, text);
  for (const { file, content } of keyFiles) {
    field(hash, file);
    field(hash, content ?? Buffer.alloc(0));
  }
  return hash.digest('hex');
}

/** A key file's contents, or undefined when it is missing or would lie outside the workspace. */
async function readKeyFile(workspace: string, file: string): Promise<Buffer | undefined> {
  const path = resolve(workspace, file);
  const inside = relative(workspace, path);
  if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..') return undefined;
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

/** Keys for one step's caches, read from `plan.workspace`; `missing` hears of each absent key file. */
export async function resolveStepCaches(
  plan: Plan,
  step: PlannedStep,
  missing: (message: string) => void,
): Promise<StepCache[]> {
  const caches: CacheSpec[] = step.cache ?? [];
  return Promise.all(
    caches.map(async (cache) => {
      const files = await Promise.all(
        cache.keyFiles.map(async (file) => {
          const content = await readKeyFile(plan.workspace, file);
          if (content === undefined) {
            missing(`cache key file '${file}' of '${cache.path}' was not found; it counts as empty`);
          }
          return { file, content };
        }),
      );
      return { path: cache.path, key: cacheKey(plan.name, step.baseName, cache.path, files) };
    }),
  );
}
