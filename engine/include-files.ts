// Follows `include:` from a pipeline file through the repository: paths relative to the
// including file, globs expanded and sorted, each file read only as a regular file whose
// real path (links resolved) stays inside the workspace. Every problem is a diagnostic on
// the include entry that caused it, in the file that holds it.
import { readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { readRegularFileInside, resolveInside, WorkspaceFileError } from './backends/workspace-files.ts';
import type { LintCode } from './lint/codes.ts';
import { MAX_PIPELINE_BYTES, type ParsedFile, parseFile } from './lint/parse-file.ts';
import type { Reporter } from './lint/report.ts';
import type { AliasBudget } from './lint/yaml-tree.ts';
import { type RemoteIncludeOptions, remoteInclude } from './remote/remote-include.ts';

/** Files below the pipeline file in one chain of includes. */
export const MAX_INCLUDE_DEPTH = 4;
/** Files one pipeline may gather, all chains together. */
export const MAX_INCLUDED_FILES = 50;

const GLOB_CHARACTERS = /[*?[\]{}]/;

export interface IncludeRoot {
  /** Absolute path of the pipeline file, and its name in messages. */
  path: string;
  display: string;
  /** Includes never lead out of this folder, links resolved. */
  workspace: string;
  /** The cache and the network rules for `{url, sha256}` entries. */
  remote?: RemoteIncludeOptions;
}

const SHA256 = /^[0-9a-f]{64}$/;

interface Link {
  real: string;
  display: string;
}

class IncludeWalk {
  readonly files: ParsedFile[] = [];
  readonly #seen = new Set<string>();
  #bytes: number;

  constructor(
    readonly root: IncludeRoot,
    readonly reporter: Reporter,
    readonly budget: AliasBudget,
    rootBytes: number,
  ) {
    this.#bytes = rootBytes;
  }

  /** The name messages give a file: relative to where the pipeline file is named from. */
  display(path: string): string {
    return join(dirname(this.root.display), relative(dirname(this.root.path), path));
  }

  /** `path` is the file's absolute path, or undefined for a remote file. */
  async follow(file: ParsedFile, path: string | undefined, chain: readonly Link[]): Promise<void> {
    const list = file.data.include;
    if (list === undefined) return;
    if (!Array.isArray(list)) {
      this.#report(file, ['include'], 'GBCMS_SCHEMA_TYPE', 'must be a list of paths to pipeline files');
      return;
    }
    for (const [index, entry] of list.entries()) {
      const at: [string, number] = ['include', index];
      if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
        if (!(await this.#remote(file, at, entry as Record<string, unknown>, chain))) return;
        continue;
      }
      if (typeof entry !== 'string' || entry === '') {
        this.#report(file, at, 'GBCMS_SCHEMA_TYPE', 'must be a path to a pipeline file (a string)');
        continue;
      }
      if (isAbsolute(entry)) {
        this.#report(
          file,
          at,
          'GBCMS_INCLUDE_PATH',
          `'${entry}' is absolute; include paths are relative to the including file`,
        );
        continue;
      }
      if (path === undefined) {
        const message = `'${entry}': a remote file may include only other remote files, as {url, sha256}`;
        this.#report(file, at, 'GBCMS_INCLUDE_PATH', message);
        continue;
      }
      const targets = await this.#targets(file, at, dirname(path), entry);
      for (const target of targets) {
        if (!(await this.#include(file, at, target, chain))) return;
      }
    }
  }

  /** The files an entry names: itself, or a glob's matches in sorted order. */
  async #targets(file: ParsedFile, at: [string, number], base: string, entry: string): Promise<string[]> {
    const segments = entry.split('/');
    const fixed = segments.findIndex((segment) => GLOB_CHARACTERS.test(segment));
    const start = resolve(base, ...(fixed === -1 ? segments : segments.slice(0, fixed)));
    if (!isInside(this.root.workspace, start)) {
      this.#report(file, at, 'GBCMS_INCLUDE_PATH', `'${entry}' leads out of the repository`);
      return [];
    }
    if (fixed === -1) return [start];
    const pattern = segments.slice(fixed).join('/');
    const matches = picomatch(pattern, { dot: false });
    // Only a pattern that spans folders needs the folders below read.
    const recursive = pattern.includes('/') || pattern.includes('**');
    const names = await readdir(start, { recursive }).catch(() => [] as string[]);
    const found = names
      .map((name) => name.split(sep).join('/'))
      .filter((name) => matches(name))
      .sort()
      .map((name) => join(start, name));
    if (found.length === 0) {
      this.#report(file, at, 'GBCMS_INCLUDE_NO_MATCH', `'${entry}' matches no file`, 'warning');
    }
    return found;
  }

  /** Reads, parses and follows one file; false once a pipeline-wide limit is reached. */
  async #include(
    file: ParsedFile,
    at: [string, number],
    target: string,
    chain: readonly Link[],
  ): Promise<boolean> {
    const display = this.display(target);
    let real: string | undefined;
    try {
      real = await resolveInside(this.root.workspace, target, display);
    } catch (error) {
      if (!(error instanceof WorkspaceFileError)) throw error;
      this.#report(file, at, 'GBCMS_INCLUDE_UNREADABLE', error.message);
      return true;
    }
    if (real === undefined) {
      this.#report(file, at, 'GBCMS_INCLUDE_MISSING', `'${display}' does not exist`);
      return true;
    }
    const admitted = this.#admit(file, at, { real, display }, chain);
    if (admitted !== 'read') return admitted === 'skip';
    const bytes = await this.#read(file, at, real, display);
    if (bytes === undefined) return true;
    this.#bytes += bytes.length;
    if (this.#bytes > MAX_PIPELINE_BYTES) {
      const message = `the pipeline and its included files come to more than ${MAX_PIPELINE_BYTES} bytes (1 MiB), the limit for one pipeline`;
      this.#report(file, at, 'GBCMS_INCLUDE_TOO_LARGE', message);
      return false;
    }
    return this.#parse(bytes, display, real, real, chain);
  }

  /**
   * Whether a file (local or remote, `real` names it) is read: `skip` when it closes a cycle
   * (reported), was read already by another chain, or nests too deep (reported); `stop` when
   * the pipeline has its most files (reported, and nothing more is read). `read` marks it seen.
   */
  #admit(
    file: ParsedFile,
    at: [string, number],
    link: Link,
    chain: readonly Link[],
  ): 'read' | 'skip' | 'stop' {
    const { real, display } = link;
    const loop = chain.findIndex((earlier) => earlier.real === real);
    if (loop !== -1) {
      const names = [...chain.slice(loop).map((earlier) => earlier.display), display];
      this.#report(file, at, 'GBCMS_INCLUDE_CYCLE', `include cycle: ${names.join(' -> ')}`);
      return 'skip';
    }
    // The same file reached by two chains is read once: its names are defined once.
    if (this.#seen.has(real)) return 'skip';
    if (chain.length > MAX_INCLUDE_DEPTH) {
      const message = `'${display}' would be included ${chain.length} files deep; includes nest at most ${MAX_INCLUDE_DEPTH} deep`;
      this.#report(file, at, 'GBCMS_INCLUDE_TOO_DEEP', message);
      return 'skip';
    }
    if (this.#seen.size >= MAX_INCLUDED_FILES) {
      this.#report(
        file,
        at,
        'GBCMS_INCLUDE_TOO_LARGE',
        `a pipeline includes at most ${MAX_INCLUDED_FILES} files`,
      );
      return 'stop';
    }
    this.#seen.add(real);
    return 'read';
  }

  /** Checks a pipeline-wide limit, then parses and follows one file's bytes. */
  async #parse(
    bytes: Buffer,
    display: string,
    key: string,
    path: string | undefined,
    chain: readonly Link[],
  ): Promise<boolean> {
    const parsed = parseFile(bytes, display, this.reporter, this.budget);
    if (!parsed) return true;
    await this.follow(parsed, path, [...chain, { real: key, display }]);
    this.files.push(parsed);
    return true;
  }

  /** A `{url, sha256}` entry: the pinned file, from the cache or the network. */
  async #remote(
    file: ParsedFile,
    at: [string, number],
    entry: Record<string, unknown>,
    chain: readonly Link[],
  ): Promise<boolean> {
    const pinned = readRemoteEntry(entry);
    if (typeof pinned === 'string') {
      this.#report(file, at, 'GBCMS_INCLUDE_REMOTE', pinned);
      return true;
    }
    const { url: parsedUrl, sha256 } = pinned;
    const display = parsedUrl.href;
    const key = `${display}#${sha256}`;
    const admitted = this.#admit(file, at, { real: key, display }, chain);
    if (admitted !== 'read') return admitted === 'skip';
    const answer = await remoteInclude(parsedUrl, sha256, this.root.remote);
    if (!answer.ok) {
      this.#report(file, at, answer.code, answer.message);
      return true;
    }
    this.#bytes += answer.bytes.length;
    if (this.#bytes > MAX_PIPELINE_BYTES) {
      const message = `the pipeline and its included files come to more than ${MAX_PIPELINE_BYTES} bytes (1 MiB), the limit for one pipeline`;
      this.#report(file, at, 'GBCMS_INCLUDE_TOO_LARGE', message);
      return false;
    }
    return this.#parse(answer.bytes, display, key, undefined, chain);
  }

  async #read(
    file: ParsedFile,
    at: [string, number],
    real: string,
    display: string,
  ): Promise<Buffer | undefined> {
    const chunks: Buffer[] = [];
    try {
      const options = { maxBytes: MAX_PIPELINE_BYTES, display };
      const read = await readRegularFileInside(this.root.workspace, real, options, (chunk) =>
        chunks.push(chunk),
      );
      if (read === undefined) {
        this.#report(file, at, 'GBCMS_INCLUDE_MISSING', `'${display}' does not exist`);
        return undefined;
      }
    } catch (error) {
      if (!(error instanceof WorkspaceFileError)) throw error;
      this.#report(file, at, 'GBCMS_INCLUDE_UNREADABLE', error.message);
      return undefined;
    }
    return Buffer.concat(chunks);
  }

  #report(
    file: ParsedFile,
    path: (string | number)[],
    code: LintCode,
    message: string,
    severity: 'error' | 'warning' = 'error',
  ): void {
    const { position } = file.places.place(path, 'value');
    this.reporter.add(severity, code, path, message, position, file.file);
  }
}

/** The URL and hash of a `{url, sha256}` entry, or what is wrong with it. */
function readRemoteEntry(entry: Record<string, unknown>): { url: URL; sha256: string } | string {
  const { url, sha256 } = entry;
  const extra = Object.keys(entry).find((key) => key !== 'url' && key !== 'sha256');
  if (extra !== undefined)
    return `unknown key '${extra}'; a remote include is {url: https://..., sha256: HEX}`;
  const parsed = typeof url === 'string' && URL.canParse(url) ? new URL(url) : undefined;
  if (parsed?.protocol !== 'https:') return 'url must be an https:// URL';
  if (typeof sha256 !== 'string') {
    return "sha256 must be the file's SHA-256 as a string: quote it, YAML reads a hash of digits as a number";
  }
  if (!SHA256.test(sha256))
    return "sha256 must be the file's SHA-256, 64 lowercase hex digits (sha256sum FILE)";
  return { url: parsed, sha256 };
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The files `root` includes, directly or through others, each parsed, in the order their
 * entries join the pipeline (a file's own includes before it).
 */
export async function readIncludes(
  root: IncludeRoot,
  parsed: ParsedFile,
  rootBytes: number,
  reporter: Reporter,
  budget: AliasBudget,
): Promise<ParsedFile[]> {
  const walk = new IncludeWalk(root, reporter, budget, rootBytes);
  const real = await resolveInside(root.workspace, root.path).catch(() => undefined);
  await walk.follow(parsed, root.path, [{ real: real ?? root.path, display: root.display }]);
  return walk.files;
}
