// The files a run starts from. Inside a git work tree that is what git would commit (tracked
// plus untracked-but-not-ignored), so build outputs and node_modules stay home; elsewhere it
// is every file. The engine lists them once per run (run-inputs.ts) for the backend.
import { execFile } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Never part of a workspace: git's own data and gbcms's run records. */
function isExcluded(path: string): boolean {
  const segments = path.split('/');
  return segments[0] === '.gbcms' || segments.includes('.git');
}

async function insideGitWorkTree(dir: string): Promise<boolean> {
  try {
    const { stdout } = await run('git', ['rev-parse', '--is-inside-work-tree'], { cwd: dir });
    return stdout.trim() === 'true';
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function gitFiles(dir: string): Promise<string[]> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: dir,
    maxBuffer: 256 * 1024 * 1024,
  });
  const listed = [...new Set(stdout.split('\0').filter((p) => p !== ''))];
  // --cached still lists files deleted from the work tree; gitlinks (submodules) are directories.
  // A tracked path replaced by a FIFO or a device since is left out: copying it would block.
  const present = await Promise.all(
    listed.map(async (p) => {
      try {
        const stats = await lstat(join(dir, p));
        return stats.isFile() || stats.isSymbolicLink();
      } catch {
        return false;
      }
    }),
  );
  return listed.filter((_, i) => present[i]);
}

async function walkFiles(dir: string, sub = ''): Promise<string[]> {
  const entries = await readdir(join(dir, sub), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = sub === '' ? entry.name : `${sub}/${entry.name}`;
    if (isExcluded(path)) continue;
    // Symlinks are kept as links and never followed, so a link cannot pull host files in.
    if (entry.isDirectory()) files.push(...(await walkFiles(dir, path)));
    else if (entry.isFile() || entry.isSymbolicLink()) files.push(path);
  }
  return files;
}

/** Relative posix paths of the workspace's files, sorted. */
export async function listWorkspaceFiles(dir: string): Promise<string[]> {
  if (!(await exists(dir))) throw new Error(`workspace directory '${dir}' does not exist`);
  const files = (await insideGitWorkTree(dir)) ? await gitFiles(dir) : await walkFiles(dir);
  return files.filter((f) => !isExcluded(f)).sort();
}
