// Gets an execution's source into its workspace folder: a fetched commit for git sources, or a
// copy of an admin-registered local directory that is not a git repository. Sources are checked
// against the URL policy first; local paths pass only for a project's own registered source.
import { constants } from 'node:fs';
import { access, copyFile, lstat, mkdir, readlink, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Trigger } from '../../engine/plan.ts';
import { listWorkspaceFiles } from '../../engine/workspace.ts';
import { type FetchedCommit, type FetchTarget, fetchCommit, GitError } from '../git/fetch.ts';
import { checkRepoSource } from '../git/url-policy.ts';
import { SourceError } from './errors.ts';
import type { StartExecutionRequest } from './types.ts';

/** The ref to fetch for a trigger: its tag, else its branch, as full ref names. */
export function triggerRef(trigger: Trigger): string | undefined {
  if (trigger.tag) return `refs/tags/${trigger.tag}`;
  if (trigger.branch) return `refs/heads/${trigger.branch}`;
  return undefined;
}

/**
 * Fills `dest` (missing or empty) with the request's source. Resolves with the commit when the
 * source is a git repository, undefined for a copied directory. Throws SourceError with a
 * message fit for the execution's reason; an aborted fetch throws GitError GBCMS_ERR_GIT_ABORTED.
 */
export async function prepareSource(
  request: Pick<StartExecutionRequest, 'source' | 'project' | 'trigger'>,
  dest: string,
  signal?: AbortSignal,
): Promise<FetchedCommit | undefined> {
  const { source, project, trigger } = request;
  if (source.kind === 'git') {
    const checked = checkRepoSource(source.repo, { allowLocalPaths: false });
    if (!checked.ok) throw new SourceError(`repository source refused: ${checked.reason}`);
    const target: FetchTarget = {
      commit: source.commit ?? trigger.commit,
      ref: source.ref ?? triggerRef(trigger) ?? ((source.commit ?? trigger.commit) ? undefined : 'HEAD'),
    };
    return fetchInto(checked.value, target, dest, { allowLocalPaths: false, signal });
  }

  const checked = checkRepoSource(project.repo, { allowLocalPaths: true });
  if (!checked.ok) throw new SourceError(`the project's repository source is refused: ${checked.reason}`);
  if (checked.kind === 'path' && !(await isGitRepository(checked.value))) {
    await copyDirectory(checked.value, dest);
    return undefined;
  }
  const target: FetchTarget = {
    commit: trigger.commit,
    ref: triggerRef(trigger) ?? `refs/heads/${project.default_branch}`,
  };
  return fetchInto(checked.value, target, dest, { allowLocalPaths: checked.kind === 'path', signal });
}

async function fetchInto(
  repo: string,
  target: FetchTarget,
  dest: string,
  options: { allowLocalPaths: boolean; signal?: AbortSignal },
): Promise<FetchedCommit> {
  try {
    return await fetchCommit(repo, target, dest, options);
  } catch (error) {
    if (!(error instanceof GitError) || error.code === 'GBCMS_ERR_GIT_ABORTED') throw error;
    const what = target.commit ?? target.ref ?? 'HEAD';
    throw new SourceError(`could not fetch ${what} from ${repo}: ${error.message}`, error.stderrTail, {
      cause: error,
    });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** A work tree (with .git) or a bare repository (HEAD, objects/, refs/). */
async function isGitRepository(dir: string): Promise<boolean> {
  if (await exists(join(dir, '.git'))) return true;
  const bare = await Promise.all(['HEAD', 'objects', 'refs'].map((name) => exists(join(dir, name))));
  return bare.every(Boolean);
}

/** The directory's workspace files (git-aware, see listWorkspaceFiles); links stay links. */
async function copyDirectory(src: string, dest: string): Promise<void> {
  let files: string[];
  try {
    files = await listWorkspaceFiles(src);
  } catch (error) {
    throw new SourceError(`the project's directory ${src} cannot be read`, String(error), { cause: error });
  }
  await mkdir(dest, { recursive: true });
  for (const file of files) {
    const from = join(src, file);
    const to = join(dest, file);
    await mkdir(dirname(to), { recursive: true });
    if ((await lstat(from)).isSymbolicLink()) await symlink(await readlink(from), to);
    else await copyFile(from, to, constants.COPYFILE_EXCL);
  }
}
