// Safe extraction of an artifact archive (what Backend.fetchArchive gives) into a destination folder. The archive is hostile until proven otherwise: every
// entry is checked before it touches the disk, and on any refusal this call's output is removed.
//
// Policy: regular files and directories are written. Symlinks that stay inside the destination
// are dropped (never written, so nothing extracted later can be redirected through them);
// symlinks leaving it, hardlinks, devices and FIFOs refuse the whole archive.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import tarStream from 'tar-stream';
import { type ArchiveSource, destroySource, type FeedState, feed } from './archive-source.ts';
import { ArtifactError } from './artifact-error.ts';
import { checkPrefix, DIRECTORY_MODE, entryPath, safeFileMode, symlinkStaysInside } from './entry-path.ts';
import { OverlappedWriter } from './overlapped-writer.ts';

export type { ArchiveSource } from './archive-source.ts';
export type { ArtifactErrorCode } from './artifact-error.ts';
export { ArtifactError } from './artifact-error.ts';

export interface ExtractedFile {
  /** Relative to destDir, posix; '' when the archive's top entry is a file written at destDir itself. */
  path: string;
  size: number;
  sha256: string;
}

export interface ExtractOptions {
  /** Total bytes of file content allowed. */
  maxBytes: number;
  maxEntries?: number;
  /** Leading folder of every entry (Docker names it after the requested path) that maps to destDir. */
  stripPrefix?: string;
}

export const DEFAULT_MAX_ENTRIES = 100_000;

// No following a symlink, no blocking on a FIFO, never reusing an existing inode.
const CREATE_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NONBLOCK;

type Entry = AsyncIterable<unknown> & { header: tarStream.Header };

/** What an extraction wrote, and how many archive entries (files, folders, links) it read. */
export interface Extracted {
  files: ExtractedFile[];
  entries: number;
}

export async function extractArchive(
  tar: ArchiveSource,
  destDir: string,
  options: ExtractOptions,
): Promise<Extracted> {
  const extraction = new Extraction(resolve(destDir), options);
  const extract = tarStream.extract();
  const feeding: FeedState = { stopped: false, sourceError: undefined };
  const fed = feed(tar, extract, feeding);
  try {
    for await (const entry of extract) await extraction.add(entry);
    await fed;
    return { files: extraction.files(), entries: extraction.entries };
  } catch (error) {
    // Reading stops here: the feed sees the parser gone, and the source is destroyed. Not awaited:
    // a source stuck mid-read must not hold the refusal up.
    feeding.stopped = true;
    extract.destroy(new Error('extraction stopped'));
    destroySource(tar);
    await extraction.undo();
    // The source's own error says more than the "stream was destroyed" it causes downstream.
    const cause = error instanceof ArtifactError ? error : (feeding.sourceError ?? error);
    throw asArtifactError(cause, extraction.current);
  }
}

class Extraction {
  readonly #root: string;
  readonly #maxBytes: number;
  readonly #maxEntries: number;
  readonly #stripPrefix: string;
  readonly #files = new Map<string, ExtractedFile>();
  /** Directories known to be real directories (not symlinks) on disk. */
  readonly #dirs = new Set<string>();
  readonly #createdDirs: string[] = [];
  readonly #createdFiles = new Set<string>();
  #entries = 0;
  #bytes = 0;
  /** Name of the entry being handled, for error messages. */
  current: string | undefined;

  constructor(root: string, options: ExtractOptions) {
    this.#root = root;
    this.#maxBytes = options.maxBytes;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#stripPrefix = checkPrefix(options.stripPrefix ?? '');
  }

  files(): ExtractedFile[] {
    return [...this.#files.values()];
  }

  get entries(): number {
    return this.#entries;
  }

  async add(entry: Entry): Promise<void> {
    const { header } = entry;
    const name = header.name;
    this.current = name;
    if (++this.#entries > this.#maxEntries) {
      throw new ArtifactError(
        'GBCMS_ERR_ARTIFACT_TOO_MANY',
        `archive has more than ${this.#maxEntries} entries (stopped at '${name}')`,
        name,
      );
    }
    const path = entryPath(name, this.#stripPrefix);
    const target = path === '' ? this.#root : join(this.#root, path);
    // Belt and braces: entryPath already refused anything that could climb out.
    if (target !== this.#root && !target.startsWith(this.#root + sep)) {
      throw new ArtifactError(
        'GBCMS_ERR_ARTIFACT_PATH',
        `archive entry '${name}' leaves the destination`,
        name,
      );
    }
    switch (header.type) {
      case 'directory':
        await this.#directory(target, name);
        return drain(entry);
      case 'file':
      case 'contiguous-file':
        return this.#file(entry, path, target, name);
      case 'symlink': {
        const link = header.linkname ?? '';
        if (!symlinkStaysInside(path, link)) {
          throw new ArtifactError(
            'GBCMS_ERR_ARTIFACT_LINK',
            `archive entry '${name}' is a symlink to '${link}', outside the destination`,
            name,
          );
        }
        return drain(entry);
      }
      case 'link':
        throw new ArtifactError(
          'GBCMS_ERR_ARTIFACT_LINK',
          `archive entry '${name}' is a hardlink (to '${header.linkname ?? ''}'); hardlinks are not extracted`,
          name,
        );
      default:
        throw new ArtifactError(
          'GBCMS_ERR_ARTIFACT_TYPE',
          `archive entry '${name}' is a ${header.type ?? 'entry of unknown type'}; only files and directories are extracted`,
          name,
        );
    }
  }

  async #file(entry: Entry, path: string, target: string, name: string): Promise<void> {
    const size = entry.header.size ?? 0;
    if (this.#bytes + size > this.#maxBytes) this.#tooLarge(name);
    if (target === this.#root) await this.#ancestors(dirname(target), name);
    else await this.#directory(dirname(target), name);
    await this.#clear(target, name);
    const handle = await open(target, CREATE_FLAGS, safeFileMode(entry.header.mode));
    this.#createdFiles.add(target);
    const hash = createHash('sha256');
    const writer = new OverlappedWriter(handle);
    let written = 0;
    try {
      for await (const chunk of entry) {
        if (!(chunk instanceof Uint8Array)) {
          throw new TypeError(`archive entry '${name}' yielded a non-byte chunk`);
        }
        written += chunk.length;
        this.#bytes += chunk.length;
        if (this.#bytes > this.#maxBytes) this.#tooLarge(name);
        hash.update(chunk);
        await writer.push(chunk);
      }
      await writer.flush();
    } finally {
      await writer.settled();
      await handle.close();
    }
    // A later entry with the same name replaces the earlier one, as tar does.
    this.#files.delete(path);
    this.#files.set(path, { path, size: written, sha256: hash.digest('hex') });
  }

  #tooLarge(name: string): never {
    throw new ArtifactError(
      'GBCMS_ERR_ARTIFACT_TOO_LARGE',
      `artifacts exceed ${this.#maxBytes} bytes (stopped at '${name}')`,
      name,
    );
  }

  /** Makes room for a new file at `target`: only a regular file may be there, and it goes. */
  async #clear(target: string, name: string): Promise<void> {
    const existing = await lstatOrUndefined(target);
    if (existing === undefined) return;
    if (existing.isSymbolicLink()) this.#throughSymlink(target, name);
    if (!existing.isFile()) {
      throw new ArtifactError(
        'GBCMS_ERR_ARTIFACT_EXISTS',
        `archive entry '${name}': something that is not a file is already at ${target}`,
        name,
      );
    }
    // Unlinking, not truncating: an existing file may be a hardlink to something outside.
    await unlink(target);
    this.#createdFiles.delete(target);
  }

  /** Makes sure `dir` is a real directory, creating it and its parents as needed. */
  async #directory(dir: string, name: string): Promise<void> {
    if (this.#dirs.has(dir)) return;
    const existing = await lstatOrUndefined(dir);
    if (existing === undefined) {
      if (dir === this.#root) await this.#ancestors(dirname(dir), name);
      else await this.#directory(dirname(dir), name);
      if (await this.#mkdir(dir)) return this.#directory(dir, name);
    } else if (existing.isSymbolicLink()) {
      this.#throughSymlink(dir, name);
    } else if (!existing.isDirectory()) {
      throw new ArtifactError(
        'GBCMS_ERR_ARTIFACT_EXISTS',
        `archive entry '${name}': ${dir} is already there and is not a directory`,
        name,
      );
    }
    this.#dirs.add(dir);
  }

  /** The folders above the destination belong to the caller; create the missing ones only. */
  async #ancestors(dir: string, name: string): Promise<void> {
    if (this.#dirs.has(dir)) return;
    const existing = await stat(dir).catch(() => undefined);
    if (existing === undefined) {
      await this.#ancestors(dirname(dir), name);
      if (await this.#mkdir(dir)) return this.#ancestors(dir, name);
    } else if (!existing.isDirectory()) {
      throw new ArtifactError('GBCMS_ERR_ARTIFACT_EXISTS', `${dir} is not a directory`, name);
    }
    this.#dirs.add(dir);
  }

  /** Creates `dir`; true when something appeared there first (another extraction), to check again. */
  async #mkdir(dir: string): Promise<boolean> {
    try {
      await mkdir(dir, { mode: DIRECTORY_MODE });
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return true;
      throw error;
    }
    this.#createdDirs.push(dir);
    return false;
  }

  #throughSymlink(path: string, name: string): never {
    throw new ArtifactError(
      'GBCMS_ERR_ARTIFACT_SYMLINK',
      `archive entry '${name}' would be written through the symlink ${path}`,
      name,
    );
  }

  /** Removes what this call wrote; leaves anything else (and non-empty folders) alone. */
  async undo(): Promise<void> {
    for (const file of this.#createdFiles) await unlink(file).catch(() => undefined);
    for (const dir of [...this.#createdDirs].reverse()) await rmdir(dir).catch(() => undefined);
  }
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Skips an entry's data (directories, dropped symlinks) so the next entry can be read. */
async function drain(entry: Entry): Promise<void> {
  for await (const _ of entry) {
    // nothing to keep
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function asArtifactError(error: unknown, entry: string | undefined): ArtifactError {
  if (error instanceof ArtifactError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // errno codes (ENOSPC, EACCES), not Node's own ERR_* codes.
  if (/^E[A-Z0-9]+$/.test(errorCode(error) ?? '')) {
    const where = entry === undefined ? '' : ` while writing '${entry}'`;
    return new ArtifactError(
      'GBCMS_ERR_ARTIFACT_IO',
      `could not extract artifacts${where}: ${message}`,
      entry,
      {
        cause: error,
      },
    );
  }
  return new ArtifactError(
    'GBCMS_ERR_ARTIFACT_ARCHIVE',
    `could not read the artifact archive: ${message}`,
    entry,
    {
      cause: error,
    },
  );
}
