// Where a local run keeps its files: `<temp>/gbcms-local-<run id>.<random>`, holding the scratch
// copy of the workspace, the steps' home and the record of their processes. mkdtemp makes it
// (mode 0700, under a name nobody could have prepared in a shared /tmp); the run id in the name
// lets destroyRun find it again from the id alone, after a crash too. The dot cannot be part of
// a run id, so one run's name is never the start of another's.
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, mkdtemp, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { killRecordedProcesses, PROCESSES_FILE } from './processes.ts';

const PREFIX = 'gbcms-local-';
const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Creates the run's folder below `parent`. */
export async function createScratch(parent: string, runId: string): Promise<string> {
  if (!RUN_ID.test(runId)) {
    throw new Error(`local backend: run id '${runId}' is not made of letters, digits, '-' and '_'`);
  }
  return mkdtemp(join(parent, `${PREFIX}${runId}.`));
}

/** The run's folders below `parent`: real directories of ours, never a symlink planted there. */
export async function findScratch(parent: string, runId: string): Promise<string[]> {
  if (!RUN_ID.test(runId)) return [];
  const entries = await readdir(parent).catch(() => [] as string[]);
  const found: string[] = [];
  for (const entry of entries) {
    if (entry.slice(0, entry.lastIndexOf('.')) !== `${PREFIX}${runId}`) continue;
    const path = join(parent, entry);
    const stats = await lstat(path).catch(() => undefined);
    if (stats?.isDirectory() && stats.uid === process.getuid?.()) found.push(path);
  }
  return found;
}

/** Ids of the runs with a folder of ours below `parent`. */
export async function listScratchRuns(parent: string): Promise<string[]> {
  const entries = await readdir(parent).catch(() => [] as string[]);
  const ids = new Set<string>();
  for (const entry of entries) {
    const dot = entry.lastIndexOf('.');
    if (!entry.startsWith(PREFIX) || dot <= PREFIX.length) continue;
    const id = entry.slice(PREFIX.length, dot);
    if (!RUN_ID.test(id)) continue;
    const stats = await lstat(join(parent, entry)).catch(() => undefined);
    if (stats?.isDirectory() && stats.uid === process.getuid?.()) ids.add(id);
  }
  return [...ids].sort();
}

/** Stops what the run's steps left running, then removes the folder. */
export async function removeScratch(dir: string): Promise<void> {
  await killRecordedProcesses(join(dir, PROCESSES_FILE));
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Copies the listed files of `source` into `dest`. A symlink is copied as a link, as the Docker
 * backend's tar keeps it, so a link never pulls a host file into the workspace; anything but a
 * regular file or a link (a FIFO would block the copy) is left out, as the tar leaves it out.
 */
export async function copyWorkspace(source: string, files: readonly string[], dest: string): Promise<void> {
  for (const file of files) {
    const from = join(source, file);
    const to = join(dest, file);
    const stats = await lstat(from);
    if (!stats.isSymbolicLink() && !stats.isFile()) continue;
    await mkdir(dirname(to), { recursive: true });
    if (stats.isSymbolicLink()) await symlink(await readlink(from), to);
    else await copyFile(from, to, constants.COPYFILE_EXCL);
  }
}
