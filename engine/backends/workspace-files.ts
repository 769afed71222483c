// Reading a repository's file on the host: cache key files (engine/cache.ts), .dockerignore
// and build context files (docker/build-context.ts); here, beside the backends, so both the
// engine and the backends may import it. A repository is not trusted: a committed
// `lock.json -> /dev/zero`, a FIFO or a link to /etc/shadow must neither hang gbcms, nor
// exhaust its memory, nor pull host content into a key or an image. So a file is read only
// when it is a regular file inside the workspace once every link is resolved; it is opened
// without following a final link and without blocking (a FIFO's open waits for a writer
// otherwise), its type is checked on the open descriptor, and it is read up to a size cap.
//
// The links are resolved before the open, so a link swapped in between could still lead out;
// nothing runs on the host in the repository while gbcms reads it (steps run in containers or
// in a scratch copy), so no one is there to swap it.
import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, open, realpath } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CHUNK_BYTES = 256 * 1024;

/** A repository file gbcms will not read, with why: the message names the file. */
export class WorkspaceFileError extends Error {
  constructor(
    readonly file: string,
    readonly why: string,
  ) {
    super(`'${file}' ${why}`);
    this.name = 'WorkspaceFileError';
  }
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function isMissing(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}

/** What a non-regular file is, for the message. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'is a directory';
  if (stats.isFIFO()) return 'is a FIFO (named pipe)';
  if (stats.isSocket()) return 'is a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'is a device';
  if (stats.isSymbolicLink()) return 'is a symbolic link';
  return 'is not a regular file';
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GiB`;
  if (bytes >= 1024 ** 2 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/**
 * `rel` (relative to `root`, or absolute) resolved through its links, or undefined when
 * nothing is there (a dangling link included). Throws WorkspaceFileError when the real path
 * lies outside `root`'s real path.
 */
export async function resolveInside(
  root: string,
  rel: string,
  display: string = rel,
): Promise<string | undefined> {
  const path = isAbsolute(rel) ? rel : resolve(root, rel);
  const realRoot = await realpath(root);
  if (!isInside(resolve(root), path)) throw new WorkspaceFileError(display, 'is outside the workspace');
  let real: string;
  try {
    // realpath never opens the file: it cannot block on a FIFO.
    real = await realpath(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw new WorkspaceFileError(display, `cannot be read (${errnoCode(error) ?? String(error)})`);
  }
  if (!isInside(realRoot, real)) {
    throw new WorkspaceFileError(display, 'is a symbolic link that leads out of the workspace');
  }
  return real;
}

/**
 * Opens `rel` below `root` as a regular file of at most `maxBytes`; undefined when it does not
 * exist. Throws WorkspaceFileError for a link out of the workspace, a directory, FIFO, socket
 * or device, and a file over the cap. The caller closes the handle.
 */
export async function openRegularFileInside(
  root: string,
  rel: string,
  options: { maxBytes: number; display?: string },
): Promise<{ handle: FileHandle; size: number } | undefined> {
  const display = options.display ?? rel;
  const real = await resolveInside(root, rel, display);
  if (real === undefined) return undefined;
  // lstat first: opening a socket fails with an unhelpful ENXIO, and names the kind better.
  const before = await lstat(real).catch(() => undefined);
  if (before === undefined) return undefined;
  if (!before.isFile()) throw new WorkspaceFileError(display, kindOf(before));
  let handle: FileHandle;
  try {
    handle = await open(real, READ_FLAGS);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw new WorkspaceFileError(display, `cannot be read (${errnoCode(error) ?? String(error)})`);
  }
  try {
    // The open file's own type: what lstat saw may have been replaced since.
    const stats = await handle.stat();
    if (!stats.isFile()) throw new WorkspaceFileError(display, kindOf(stats));
    if (stats.size > options.maxBytes) throw tooLarge(display, options.maxBytes);
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function tooLarge(display: string, maxBytes: number): WorkspaceFileError {
  return new WorkspaceFileError(display, `is larger than ${formatBytes(maxBytes)}`);
}

/**
 * Streams `rel` to `onChunk` under the rules of openRegularFileInside, never past `maxBytes`
 * even when the file grows while it is read. Returns the bytes read, or undefined when the
 * file does not exist.
 */
export async function readRegularFileInside(
  root: string,
  rel: string,
  options: { maxBytes: number; display?: string },
  onChunk: (chunk: Buffer) => void,
): Promise<number | undefined> {
  const opened = await openRegularFileInside(root, rel, options);
  if (opened === undefined) return undefined;
  const { handle } = opened;
  try {
    let total = 0;
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return total;
      total += bytesRead;
      if (total > options.maxBytes) throw tooLarge(options.display ?? rel, options.maxBytes);
      onChunk(Buffer.from(buffer.subarray(0, bytesRead)));
    }
  } finally {
    await handle.close();
  }
}
