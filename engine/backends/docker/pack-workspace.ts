// The workspace's files as the tar that seeds a run's volume. Entries are renamed under one
// prefix with one owner, because the container user must own the workspace whatever the host
// uid was.
import { relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-fs';
import type { Pack } from 'tar-stream';

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
