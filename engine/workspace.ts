// The files a run starts from. Inside a git work tree that is what git would commit (tracked
// plus untracked-but-not-ignored), so build outputs and node_modules stay home; elsewhere it
// is every file. Packing renames entries under one prefix with one owner, because the
// container user must own the workspace whatever the host uid was.
import { execFile } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import tar from 'tar-fs';
import type { Pack } from 'tar-stream';

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
  const present = await Promise.all(
    listed.map(async (p) => {
      try {
        return !(await lstat(join(dir, p))).isDirectory();
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

/** Every directory that leads to one of the files, '' being the root. */
function parentDirectories(files: readonly string[]): Set<string> {
  const dirs = new Set<string>(['']);
  for (const file of files) {
    const parts = file.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return dirs;
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

/**
 * A tar of exactly `files` (and the directories above them), named `prefix/...` and owned by
 * uid:gid. The root itself is an entry (`prefix/`) so that extracting it sets its owner too.
 */
export function packWorkspace(
  dir: string,
  files: string[],
  options: {
    uid: number;
    gid: number;
    prefix: string;
    /** Adds entries after the files, so one archive (one API round) carries everything. */
    append?: (pack: Pack) => void;
  },
): NodeJS.ReadableStream {
  const keep = new Set<string>([...files, ...parentDirectories(files)]);
  const prefix = options.prefix.replace(/\/+$/, '');
  // `sort` makes the archive reproducible; @types/tar-fs does not know it yet.
  const { append } = options;
  const packOptions: tar.PackOptions & { sort: boolean } = {
    sort: true,
    ...(append && {
      finalize: false,
      finish: (pack) => {
        append(pack);
        pack.finalize();
      },
    }),
    // tar-fs walks directories itself; this prunes the walk to the listed paths.
    ignore: (abs) => !keep.has(toPosix(relative(dir, abs))),
    map: (header) => {
      const name = header.name === '.' ? '' : toPosix(header.name);
      header.name = name === '' ? prefix : `${prefix}/${name}`;
      header.uid = options.uid;
      header.gid = options.gid;
      return header;
    },
  };
  // tar-fs streams are streamx streams; callers get a plain Node stream.
  return Readable.from(tar.pack(dir, packOptions), { objectMode: false });
}
