// A `build:` environment's context: the files Docker would send (after .dockerignore), a
// hash of them that names the built image, and the tar to send. The hash covers paths, modes,
// contents, the Dockerfile path and the build args, so an unchanged context reuses its image.
import { createHash } from 'node:crypto';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import picomatch from 'picomatch';
import tar from 'tar-fs';
import { readRegularFileInside, resolveInside, WorkspaceFileError } from '../workspace-files.ts';

interface IgnoreRule {
  negate: boolean;
  match: (path: string) => boolean;
}

function cleanPattern(raw: string): string {
  return raw
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

/** Parses .dockerignore text into rules, in file order (the last matching rule wins). */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const line of text.split(/\r?\n/)) {
    let pattern = line.trim();
    if (pattern === '' || pattern.startsWith('#')) continue;
    const negate = pattern.startsWith('!');
    if (negate) pattern = pattern.slice(1).trim();
    pattern = cleanPattern(pattern);
    if (pattern === '') continue;
    rules.push({ negate, match: picomatch(pattern, { dot: true }) });
  }
  return rules;
}

/** Docker's rule: a pattern matches a path or one of its parent directories (`build` excludes `build/x/y`). */
export function isIgnored(rules: readonly IgnoreRule[], path: string): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.match(candidate))) ignored = !rule.negate;
  }
  return ignored;
}

/** A .dockerignore is a short list of patterns; a bigger one is not one. */
const MAX_DOCKERIGNORE_BYTES = 1024 ** 2;

/** Its text, '' when there is none; throws WorkspaceFileError for a link out, a FIFO, ... */
async function readDockerignore(context: string): Promise<string> {
  const chunks: Buffer[] = [];
  const options = { maxBytes: MAX_DOCKERIGNORE_BYTES };
  await readRegularFileInside(context, '.dockerignore', options, (chunk) => chunks.push(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The context's real path: a folder inside the workspace once its links are resolved, so a
 * committed `context -> /etc` cannot send host files to the image (and so to the steps).
 */
export async function buildContextDir(workspace: string, context: string, shown: string): Promise<string> {
  const real = await resolveInside(workspace, context, shown);
  if (real === undefined) throw new WorkspaceFileError(shown, 'does not exist');
  if (!(await lstat(real)).isDirectory()) throw new WorkspaceFileError(shown, 'is not a directory');
  return real;
}

/** Files of the context Docker would receive, relative posix paths, sorted. */
export async function listContextFiles(context: string, dockerfile: string): Promise<string[]> {
  const rules = parseDockerignore(await readDockerignore(context));
  // Docker always needs these two, whatever .dockerignore says.
  const required = new Set([cleanPattern(dockerfile), '.dockerignore']);
  const canPrune = !rules.some((r) => r.negate);
  const files: string[] = [];
  const walk = async (sub: string): Promise<void> => {
    for (const entry of await readdir(join(context, sub), { withFileTypes: true })) {
      const path = sub === '' ? entry.name : `${sub}/${entry.name}`;
      const ignored = isIgnored(rules, path) && !required.has(path);
      if (entry.isDirectory()) {
        // With `!` exceptions an ignored directory may still hold kept files.
        const holdsRequired = [...required].some((r) => r.startsWith(`${path}/`));
        if (!(ignored && canPrune) || holdsRequired) await walk(path);
      } else if (!ignored && (entry.isFile() || entry.isSymbolicLink())) {
        files.push(path);
      }
    }
  };
  await walk('');
  return files.sort();
}

/** Opened without following a link and checked on the descriptor: a file swapped for a FIFO never blocks. */
async function hashFile(context: string, file: string): Promise<string> {
  const hash = createHash('sha256');
  const options = { maxBytes: Number.MAX_SAFE_INTEGER };
  await readRegularFileInside(context, file, options, (chunk) => hash.update(chunk));
  return hash.digest('hex');
}

export async function contextHash(
  context: string,
  files: readonly string[],
  dockerfile: string,
  args: Record<string, string>,
): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`dockerfile\0${dockerfile}\0`);
  const sortedArgs = Object.entries(args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  hash.update(`args\0${JSON.stringify(sortedArgs)}\0`);
  for (const file of files) {
    const abs = join(context, file);
    const stat = await lstat(abs);
    const content = stat.isSymbolicLink() ? `link:${await readlink(abs)}` : await hashFile(context, file);
    hash.update(`${file}\0${stat.mode.toString(8)}\0${content}\0`);
  }
  return hash.digest('hex');
}

export function packContext(context: string, files: string[]): NodeJS.ReadableStream {
  // tar-fs streams are streamx streams; dockerode wants a plain Node stream.
  return Readable.from(tar.pack(context, { entries: files }), { objectMode: false });
}
