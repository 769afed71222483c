// A file or folder of the scratch workspace as a tar, for Backend.fetchArchive: entries named
// after the path's last segment, as Docker's archive API names them, so the engine reads both
// backends' archives the same way. Nothing is followed: a symlink is archived as a link, and a
// FIFO or device as what it is, for the engine's extraction to refuse.
//
// A symlink above the path is followed only while it stays in the workspace. The step could
// swap a folder for a link while this reads, but it runs with the same rights as this process
// (fewer, in bubblewrap): nothing read here is out of its own reach.
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, realpath } from 'node:fs/promises';
import { join, posix, sep } from 'node:path';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CHUNK_BYTES = 256 * 1024;

/** The tar of `path` (workspace-relative, normalised) in `workspace`; undefined when nothing is there. */
export async function packWorkspacePath(workspace: string, path: string): Promise<Readable | undefined> {
  let root: string;
  let dir: string;
  try {
    [root, dir] = await Promise.all([realpath(workspace), realpath(join(workspace, posix.dirname(path)))]);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  if (dir !== root && !dir.startsWith(`${root}${sep}`)) {
    throw new Error(`'${path}' leads out of the workspace through a symlink`);
  }
  const name = posix.basename(path);
  const top = join(dir, name);
  const stats = await lstatOrUndefined(top);
  if (stats === undefined) return undefined;
  const pack = tarStream.pack();
  add(pack, top, name, stats).then(
    () => pack.finalize(),
    (error: unknown) => pack.destroy(error instanceof Error ? error : new Error(String(error))),
  );
  return Readable.from(pack, { objectMode: false });
}

async function add(pack: tarStream.Pack, abs: string, name: string, stats: Stats): Promise<void> {
  const common = { name, mode: stats.mode & 0o7777, mtime: stats.mtime };
  if (stats.isDirectory()) {
    await entry(pack, { ...common, type: 'directory' }).done;
    for (const child of (await readdir(abs)).sort()) {
      const childStats = await lstatOrUndefined(join(abs, child));
      // Removed while this reads: as if it had never been there.
      if (childStats) await add(pack, join(abs, child), `${name}/${child}`, childStats);
    }
  } else if (stats.isSymbolicLink()) {
    await entry(pack, { ...common, type: 'symlink', linkname: await readlink(abs) }).done;
  } else if (stats.isFile()) {
    await addFile(pack, abs, name);
  } else {
    const type = specialType(stats);
    // Sockets have no tar form; Docker leaves them out too.
    if (type !== undefined) await entry(pack, { ...common, type }).done;
  }
}

async function addFile(pack: tarStream.Pack, abs: string, name: string): Promise<void> {
  const handle = await open(abs, READ_FLAGS);
  try {
    // The open file's own type and size: what was there at lstat time may have been replaced.
    const stats = await handle.stat();
    const common = { name, mode: stats.mode & 0o7777, mtime: stats.mtime };
    if (!stats.isFile()) {
      const type = specialType(stats);
      if (type !== undefined) await entry(pack, { ...common, type }).done;
      return;
    }
    const { sink, done } = entry(pack, { ...common, type: 'file', size: stats.size });
    // Only the size seen at the start is archived: a file still being appended to is cut there.
    for (let position = 0; position < stats.size; ) {
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, stats.size - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) throw new Error(`'${name}' shrank while it was being archived`);
      position += bytesRead;
      if (sink.destroying) break;
      if (!sink.write(buffer.subarray(0, bytesRead))) await drained(sink);
    }
    sink.end(null);
    await done;
  } finally {
    await handle.close();
  }
}

interface Entry {
  sink: ReturnType<tarStream.Pack['entry']>;
  /** Settles when the entry is in the archive, or rejects when the archive was destroyed. */
  done: Promise<void>;
}

function entry(pack: tarStream.Pack, header: Partial<tarStream.Header> & { name: string }): Entry {
  let resolve: () => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const done = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  // Awaited by the caller unless it fails first; then its rejection is not news.
  done.catch(() => undefined);
  const sink = pack.entry(header, (error) => (error ? reject(error) : resolve()));
  return { sink, done };
}

function drained(sink: Entry['sink']): Promise<void> {
  return new Promise((resolve) => {
    if (sink.destroying) return resolve();
    const done = () => {
      sink.off('drain', done);
      sink.off('close', done);
      resolve();
    };
    sink.on('drain', done);
    sink.on('close', done);
  });
}

function specialType(stats: Stats): tarStream.Header['type'] | undefined {
  if (stats.isFIFO()) return 'fifo';
  if (stats.isCharacterDevice()) return 'character-device';
  if (stats.isBlockDevice()) return 'block-device';
  return undefined;
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
