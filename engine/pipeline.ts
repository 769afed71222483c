// Reading a pipeline file: bytes -> text -> YAML tree with positions -> data -> schema ->
// rules. Every problem becomes a diagnostic; only I/O failures throw. Code downstream gets
// a typed config only when the file has no errors.
import { existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PipelineFile } from './config/pipeline-file.generated.ts';
import type { Diagnostic } from './diagnostics.ts';
import { hasErrors } from './diagnostics.ts';
import { type IncludeRoot, readIncludes } from './include-files.ts';
import { assemble } from './lint/assemble.ts';
import { MAX_PIPELINE_BYTES, type ParsedFile, parseFile, tooLargeMessage } from './lint/parse-file.ts';
import { Reporter } from './lint/report.ts';
import { checkRules } from './lint/rules.ts';
import { checkSchema } from './lint/schema.ts';
import { expandTemplates } from './lint/templates.ts';
import type { RemoteIncludeOptions } from './remote/remote-include.ts';

export { MAX_PIPELINE_BYTES };

export interface LoadedPipeline {
  file: string;
  /** Present if and only if there is no error among the diagnostics. */
  config?: PipelineFile;
  diagnostics: Diagnostic[];
}

/** The file could not be read at all (missing, unreadable, a directory): not a lint finding. */
export class PipelineReadError extends Error {
  readonly file: string;
  /** Why, without the file: so the error can be made again on the other side of a thread. */
  readonly reason: string;

  constructor(file: string, reason: string, options?: ErrorOptions) {
    super(`cannot read ${file}: ${reason}`, options);
    this.name = 'PipelineReadError';
    this.file = file;
    this.reason = reason;
  }
}

/**
 * Lints pipeline text or bytes. Pure: bad input of any kind gives diagnostics, never a throw.
 * With no file system at hand, `include:` is not followed: readPipeline follows it.
 */
export function lintPipelineSource(source: string | Uint8Array, file: string): LoadedPipeline {
  const reporter = new Reporter(file);
  const parsed = parseFile(source, file, reporter, { expanded: 0 });
  if (parsed?.data.include !== undefined) {
    const message = 'include: is followed only when the file is read from disk (gbcms validate, plan, run)';
    reporter.error('GBCMS_INCLUDE_NOT_FOLLOWED', ['include'], message, 'key');
  }
  return finish(file, reporter, parsed && checkPipeline(parsed, [], reporter));
}

export interface ReadOptions {
  /** Included files must lie in this folder, links resolved; default: the file's folder. */
  workspace?: string;
  /** The cache and network rules for `{url, sha256}` includes. */
  remote?: RemoteIncludeOptions;
}

/**
 * Reads and lints a file and the files it includes. Throws PipelineReadError only when the
 * file itself cannot be read; an included file that cannot be read is a diagnostic.
 */
export async function readPipeline(
  path: string,
  displayName: string = path,
  options: ReadOptions = {},
): Promise<LoadedPipeline> {
  const fail = (reason: string, cause?: unknown) => new PipelineReadError(displayName, reason, { cause });
  let size: number;
  try {
    const info = await stat(path);
    // A FIFO or device would block or never end: only regular files are pipeline files.
    if (!info.isFile()) throw fail(info.isDirectory() ? 'is a directory' : 'is not a regular file');
    size = info.size;
  } catch (error) {
    throw error instanceof PipelineReadError ? error : fail(ioReason(error), error);
  }
  if (size > MAX_PIPELINE_BYTES) {
    const reporter = new Reporter(displayName);
    reporter.add('error', 'GBCMS_FILE_TOO_LARGE', [], tooLargeMessage(size));
    return { file: displayName, diagnostics: reporter.diagnostics };
  }
  let bytes: Uint8Array;
  try {
    const handle = await open(path, 'r');
    try {
      // One byte past the limit is enough to notice a file that grew since stat.
      const buffer = Buffer.alloc(MAX_PIPELINE_BYTES + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0 || length + bytesRead >= buffer.length) {
          length += bytesRead;
          break;
        }
        length += bytesRead;
      }
      bytes = buffer.subarray(0, length);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw fail(ioReason(error), error);
  }
  const reporter = new Reporter(displayName);
  const budget = { expanded: 0 };
  const parsed = parseFile(bytes, displayName, reporter, budget);
  if (!parsed) return finish(displayName, reporter, undefined);
  const workspace = options.workspace ?? dirname(path);
  const root: IncludeRoot = { path, display: displayName, workspace, remote: options.remote };
  const included = await readIncludes(root, parsed, bytes.length, reporter, budget);
  return finish(displayName, reporter, checkPipeline(parsed, included, reporter));
}

function finish(file: string, reporter: Reporter, config: PipelineFile | undefined): LoadedPipeline {
  const { diagnostics } = reporter;
  return config && !hasErrors(diagnostics) ? { file, config, diagnostics } : { file, diagnostics };
}

/** The checks on the whole pipeline; returns the config when the schema accepts it. */
function checkPipeline(
  root: ParsedFile,
  included: readonly ParsedFile[],
  reporter: Reporter,
): PipelineFile | undefined {
  const { data, origins } = assemble(root, included, reporter);
  reporter.usePlaces(origins);
  try {
    expandTemplates(data, origins, reporter);
    const valid = checkSchema(data, reporter);
    checkRules(data, reporter);
    return valid ? data : undefined;
  } catch (error) {
    // The nesting pre-check keeps the recursion of the checks shallow; this is the backstop.
    if (!(error instanceof RangeError)) throw error;
    reporter.error('GBCMS_YAML_TOO_DEEP', [], 'the file nests too deeply to be read');
    return undefined;
  }
}

/** DIR/.gbcms.yml, or DIR/.gbcms.yaml when only that one exists. */
export function defaultPipelinePath(dir: string): string {
  const yml = join(dir, '.gbcms.yml');
  const yaml = join(dir, '.gbcms.yaml');
  return !existsSync(yml) && existsSync(yaml) ? yaml : yml;
}

function ioReason(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EISDIR':
      return 'is a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
