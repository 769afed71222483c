// The `.gbcms/` folder `gbcms run` keeps its runs in, inside the user's repository.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Creates `<workspace>/.gbcms/` if it is missing. Only when gbcms creates it does it add a
 * `.gitignore` of `*`, so run folders are never committed by accident; a folder the user made
 * (or whose `.gitignore` they changed) is left as it is.
 */
export async function ensureGbcmsDir(workspace: string): Promise<string> {
  const dir = join(workspace, '.gbcms');
  try {
    await mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return dir;
    throw error;
  }
  await writeFile(join(dir, '.gitignore'), '# Written by gbcms: run folders stay out of git.\n*\n');
  return dir;
}
