// The files side of a re-run from the failed steps: which of the original's artifact files are
// still kept, the staged workspace the backend seeds the run from (the project's files with the
// reused steps' artifacts put back at their paths), and the reused artifacts copied into the new
// run's own artifacts folder, so that it keeps them whatever happens to the original.
//
// The staged workspace links the project's files rather than copying them (they are only read:
// the backend tars or copies them during setupRun), and removes a link before writing a
// restored file in its place, so nothing is ever written through a link into the project.
import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, readlink, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ArtifactRecord } from '../backends/types.ts';
import { workspaceRelative } from '../plan.ts';
import type { RestoredFile } from './decide.ts';

/** Paths of the recorded artifact files still in `artifactsDir`, as regular files of their recorded size. */
export async function keptArtifacts(
  artifactsDir: string,
  artifacts: readonly ArtifactRecord[],
): Promise<Set<string>> {
  const kept = new Set<string>();
  for (const artifact of artifacts) {
    const path = workspaceRelative(artifact.path);
    if (path !== artifact.path) continue;
    const stats = await lstat(join(artifactsDir, path)).catch(() => undefined);
    if (stats?.isFile() && stats.size === artifact.size) kept.add(artifact.path);
  }
  return kept;
}

/**
 * Builds `stagingDir` from the project's `files` (below `source`) and the `restored` files (below
 * `artifactsDir`); returns every file it holds, sorted, for RunInputs.workspaceFiles.
 */
export async function stageWorkspace(
  source: string,
  files: readonly string[],
  artifactsDir: string,
  restored: readonly RestoredFile[],
  stagingDir: string,
): Promise<string[]> {
  await rm(stagingDir, { recursive: true, force: true });
  await mkdir(stagingDir, { recursive: true });
  const staged = new Set<string>();
  for (const file of files) {
    const from = join(source, file);
    const to = join(stagingDir, file);
    const stats = await lstat(from).catch(() => undefined);
    if (!stats || (!stats.isFile() && !stats.isSymbolicLink())) continue;
    await mkdir(dirname(to), { recursive: true });
    if (stats.isSymbolicLink()) await symlink(await readlink(from), to);
    else await linkOrCopy(from, to);
    staged.add(file);
  }
  for (const { artifact, workspacePath } of restored) {
    const path = workspaceRelative(workspacePath);
    if (path === undefined)
      throw new Error(`artifact ${artifact.path} would be restored outside the workspace`);
    const to = join(stagingDir, path);
    await clearWayTo(stagingDir, path, staged);
    await copyFile(join(artifactsDir, artifact.path), to);
    staged.add(path);
  }
  return [...staged].sort();
}

/**
 * Makes every folder above `path` a real directory of the staging folder, and removes what is at
 * `path`: a restored file replaces a project file or link there, as the step's own write did.
 * A link above it is removed, never followed, so a restore cannot leave the staging folder;
 * what is removed leaves `staged` too.
 */
async function clearWayTo(root: string, path: string, staged: Set<string>): Promise<void> {
  const parts = path.split('/');
  let dir = root;
  for (const [i, part] of parts.slice(0, -1).entries()) {
    dir = join(dir, part);
    const stats = await lstat(dir).catch(() => undefined);
    if (stats?.isDirectory()) continue;
    if (stats) {
      await rm(dir, { force: true });
      staged.delete(parts.slice(0, i + 1).join('/'));
    }
    await mkdir(dir);
  }
  // A folder of the project where an artifact file goes: the file replaces it all.
  const target = join(root, path);
  if ((await lstat(target).catch(() => undefined))?.isDirectory()) {
    for (const file of staged) if (file.startsWith(`${path}/`)) staged.delete(file);
  }
  await rm(target, { recursive: true, force: true });
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    // Another file system, or links not allowed there: a copy does the same job.
    await copyFile(from, to, constants.COPYFILE_EXCL);
  }
}

/** Copies the reused artifact files from the original's artifacts folder into the new run's. */
export async function copyReusedArtifacts(
  fromDir: string,
  toDir: string,
  restored: readonly RestoredFile[],
): Promise<ArtifactRecord[]> {
  const records: ArtifactRecord[] = [];
  for (const { artifact } of restored) {
    const to = join(toDir, artifact.path);
    await mkdir(dirname(to), { recursive: true });
    await copyFile(join(fromDir, artifact.path), to);
    records.push({ ...artifact });
  }
  return records;
}
