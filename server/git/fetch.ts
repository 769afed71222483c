// Fetches one commit of a project's repository into a fresh directory and checks it out,
// detached, for an execution's workspace. Shallow (50 commits): enough to diff the commit with
// its parent and for most `git describe`s, without the cost of the whole history.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isObjectId, refNameProblem } from './ref-name.ts';
import { GitError, runGit } from './run-git.ts';
import { checkRepoSource } from './url-policy.ts';

export { GitError, type GitErrorCode } from './run-git.ts';

export interface FetchTarget {
  /** Full commit id. When `ref` is also given and the server refuses to serve a bare commit, the ref is fetched and must contain it. */
  commit?: string;
  /** Branch, tag or full ref name (`main`, `refs/tags/v1.2`, `refs/pull/7/head`). */
  ref?: string;
}

export interface FetchOptions {
  /** For the whole fetch and checkout. Default 5 minutes. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Accept an absolute local path as `source`. Pass true only for a source an admin registered
   * (see checkRepoSource); the policy is checked again here, before git runs.
   */
  allowLocalPaths?: boolean;
}

export interface FetchedCommit {
  commit: string;
  /** The commit's author name. */
  author: string;
  /** The full commit message, without the trailing newline. */
  message: string;
  /** Paths changed since the first parent; undefined when that parent was not fetched (shallow edge). */
  changedPaths?: string[];
}

const DEPTH = 50;
const DEFAULT_TIMEOUT_MS = 5 * 60 * 1000;

/**
 * `git init`, `git fetch --depth=50 --no-tags <source> <commit or ref>`, then a detached checkout,
 * in `dest` (created when missing; refused when not empty). Throws GitError: code
 * GBCMS_ERR_GIT_SOURCE (refused before git runs), _REF, _DEST, _FAILED (with git's stderr tail),
 * _COMMIT_NOT_FOUND, _TIMEOUT or _ABORTED.
 */
export async function fetchCommit(
  source: string,
  target: FetchTarget,
  dest: string,
  options: FetchOptions = {},
): Promise<FetchedCommit> {
  const checked = checkRepoSource(source, { allowLocalPaths: options.allowLocalPaths ?? false });
  if (!checked.ok) throw new GitError('GBCMS_ERR_GIT_SOURCE', `repository source refused: ${checked.reason}`);
  const wanted = checkTarget(target);
  const cwd = resolve(dest);
  await prepareDest(cwd);

  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const run = (args: string[]) =>
    runGit(args, {
      cwd,
      // A local path is read through git's `file` transport; it is allowed only for such a source.
      allowProtocols: checked.kind === 'path' ? 'file' : 'https:ssh:git',
      deadline,
      signal: options.signal,
    });
  const fetch = (what: string) =>
    run(['-c', 'gc.auto=0', 'fetch', '--quiet', `--depth=${DEPTH}`, '--no-tags', '--', checked.value, what]);

  await run(['init', '--quiet', '--template=', '.']);
  let commit: string;
  if (wanted.commit) {
    commit = wanted.commit;
    try {
      await fetch(commit);
    } catch (error) {
      // Servers without uploadpack.allowReachableSHA1InWant only serve refs.
      if (!(error instanceof GitError) || error.code !== 'GBCMS_ERR_GIT_FAILED' || !wanted.ref) throw error;
      await fetch(wanted.ref);
      const present = await run(['cat-file', '-e', `${commit}^{commit}`]).then(
        () => true,
        (missing: unknown) => {
          // Only "no such object" means absent; a timeout or abort stays what it is.
          if (missing instanceof GitError && missing.code === 'GBCMS_ERR_GIT_FAILED') return false;
          throw missing;
        },
      );
      if (!present) {
        throw new GitError(
          'GBCMS_ERR_GIT_COMMIT_NOT_FOUND',
          `commit ${commit} is not in the last ${DEPTH} commits of ${wanted.ref}`,
        );
      }
    }
  } else {
    await fetch(wanted.ref ?? '');
    // Peels an annotated tag to its commit.
    commit = (await run(['rev-parse', '--verify', '--end-of-options', 'FETCH_HEAD^{commit}'])).trim();
  }
  await run(['checkout', '--quiet', '--detach', commit, '--']);

  const [id = commit, author = '', message = ''] = (
    await run(['log', '-1', '--no-show-signature', '--format=%H%x00%an%x00%B', commit, '--'])
  ).split('\0');
  return {
    commit: id,
    author,
    message: message.replace(/\n+$/, ''),
    changedPaths: await changedPaths(run, cwd, id),
  };
}

function checkTarget(target: FetchTarget): { commit?: string; ref?: string } {
  const commit = target.commit?.toLowerCase();
  if (commit !== undefined && !isObjectId(commit)) {
    throw new GitError(
      'GBCMS_ERR_GIT_REF',
      `commit '${printable(target.commit ?? '')}' is not a full commit id`,
    );
  }
  if (target.ref !== undefined) {
    const problem = refNameProblem(target.ref);
    if (problem) throw new GitError('GBCMS_ERR_GIT_REF', `ref '${printable(target.ref)}' ${problem}`);
  }
  if (commit === undefined && target.ref === undefined) {
    throw new GitError('GBCMS_ERR_GIT_REF', 'nothing to fetch: give a commit or a ref');
  }
  return { commit, ref: target.ref };
}

async function prepareDest(dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  if ((await readdir(dest)).length > 0) {
    throw new GitError('GBCMS_ERR_GIT_DEST', `destination ${dest} is not empty`);
  }
}

async function changedPaths(
  run: (args: string[]) => Promise<string>,
  cwd: string,
  commit: string,
): Promise<string[] | undefined> {
  const [, firstParent] = (await run(['rev-list', '--parents', '-n', '1', commit, '--'])).trim().split(' ');
  const diff = ['diff-tree', '-r', '-z', '--no-renames', '--name-only', '--no-commit-id'];
  if (firstParent) return splitZ(await run([...diff, firstParent, commit, '--']));
  // No parent: either the repository's first commit, or the shallow edge whose parent was not fetched.
  const shallowFile = resolve(cwd, (await run(['rev-parse', '--git-path', 'shallow'])).trim());
  const shallow = await readFile(shallowFile, 'utf8').catch(() => '');
  if (shallow.split('\n').includes(commit)) return undefined;
  return splitZ(await run([...diff, '--root', commit, '--']));
}

function splitZ(output: string): string[] {
  return output.split('\0').filter((path) => path !== '');
}

function printable(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}
