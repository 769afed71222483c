// The local backend's scratch copy of the workspace.
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, readlink, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Copies the listed files of `source` into `dest`. A symlink is copied as a link, as the Docker
 * backend's tar keeps it, so a link never pulls a host file into the workspace.
 */
export async function copyWorkspace(source: string, files: readonly string[], dest: string): Promise<void> {
  for (const file of files) {
    const from = join(source, file);
    const to = join(dest, file);
    await mkdir(dirname(to), { recursive: true });
    if ((await lstat(from)).isSymbolicLink()) await symlink(await readlink(from), to);
    else await copyFile(from, to, constants.COPYFILE_EXCL);
  }
}
