// Reading a pipeline file: bytes -> text -> YAML tree with positions -> data -> schema ->
// rules. Every problem becomes a diagnostic; only I/O failures throw. Code downstream gets
// a typed config only when the file has no errors.
import { existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter } from 'yaml';
import type { PipelineFile } from './config/pipeline-file.generated.ts';
import type { Diagnostic } from './diagnostics.ts';
import { hasErrors } from './diagnostics.ts';
import { findExcessNesting, MAX_NESTING } from './lint/nesting.ts';
import { Locator, Reporter } from './lint/report.ts';
import { checkRules } from './lint/rules.ts';
import { checkSchema } from './lint/schema.ts';
import {
  codePointName,
  forbiddenCharacter,
  invalidUtf8Offset,
  loneSurrogateOffset,
  positionAt,
} from './lint/text-guards.ts';
import { parseYaml } from './lint/yaml-parse.ts';
import { readTree } from './lint/yaml-tree.ts';

export const MAX_PIPELINE_BYTES = 1024 * 1024;

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

/** Lints pipeline text or bytes. Pure: bad input of any kind gives diagnostics, never a throw. */
export function lintPipelineSource(source: string | Uint8Array, file: string): LoadedPipeline {
  const reporter = new Reporter(file);
  const text = readText(source, reporter);
  const config = text === undefined ? undefined : lintText(text, reporter);
  const { diagnostics } = reporter;
  return config && !hasErrors(diagnostics) ? { file, config, diagnostics } : { file, diagnostics };
}

/** Reads and lints a file. Throws PipelineReadError only when the file cannot be read. */
export async function readPipeline(path: string, displayName: string = path): Promise<LoadedPipeline> {
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
  return lintPipelineSource(bytes, displayName);
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

function tooLargeMessage(bytes: number): string {
  return `the file is ${bytes} bytes; pipeline files are limited to ${MAX_PIPELINE_BYTES} bytes (1 MiB)`;
}

/** The checks on raw input that decide whether it is text worth parsing at all. */
function readText(source: string | Uint8Array, reporter: Reporter): string | undefined {
  const bytes = typeof source === 'string' ? Buffer.byteLength(source, 'utf8') : source.length;
  if (bytes > MAX_PIPELINE_BYTES) {
    reporter.add('error', 'GBCMS_FILE_TOO_LARGE', [], tooLargeMessage(bytes));
    return undefined;
  }
  if (typeof source !== 'string') {
    const nul = source.indexOf(0);
    if (nul !== -1) {
      const where = positionAt(source, nul);
      reporter.add(
        'error',
        'GBCMS_FILE_BINARY',
        [],
        'contains a NUL byte: this is a binary file, not YAML',
        where,
      );
      return undefined;
    }
    const invalid = invalidUtf8Offset(source);
    if (invalid !== -1) {
      const where = positionAt(source, invalid);
      reporter.add(
        'error',
        'GBCMS_FILE_ENCODING',
        [],
        'the file is not valid UTF-8; save it as UTF-8',
        where,
      );
      return undefined;
    }
  }
  const text = typeof source === 'string' ? source : new TextDecoder('utf-8').decode(source);
  const surrogate = loneSurrogateOffset(text);
  if (surrogate !== -1) {
    const where = positionAt(text, surrogate);
    reporter.add('error', 'GBCMS_FILE_ENCODING', [], 'the text holds an unpaired UTF-16 surrogate', where);
    return undefined;
  }
  const forbidden = forbiddenCharacter(text);
  if (forbidden) {
    const what =
      forbidden.codePoint === 0
        ? 'a NUL byte'
        : `the control character ${codePointName(forbidden.codePoint)}`;
    const where = positionAt(text, forbidden.offset);
    reporter.add('error', 'GBCMS_FILE_BINARY', [], `contains ${what}; YAML files are plain text`, where);
    return undefined;
  }
  return text;
}

/** Parses and checks text; returns the config when the schema accepts it. */
function lintText(text: string, reporter: Reporter): PipelineFile | undefined {
  const deep = findExcessNesting(text);
  if (deep !== undefined) {
    const message = `nesting goes deeper than ${MAX_NESTING} levels`;
    reporter.add('error', 'GBCMS_YAML_TOO_DEEP', [], message, positionAt(text, deep));
    return undefined;
  }
  const lines = new LineCounter();
  reporter.useLines(lines);
  try {
    const { doc, readable } = parseYaml(text, lines, reporter);
    if (!doc || !readable) return undefined;
    const contents = doc.contents;
    if (contents === null || (isScalar(contents) && contents.value === null && contents.source === '')) {
      reporter.add(
        'error',
        'GBCMS_FILE_EMPTY',
        [],
        'the file is empty; it needs at least version: 1 and steps:',
      );
      return undefined;
    }
    if (!isMap(contents)) {
      const what = isSeq(contents) ? 'a list' : 'a single value';
      const message = `the top level must be a mapping with 'version:' and 'steps:', not ${what}`;
      reporter.atOffset('error', 'GBCMS_FILE_NOT_MAPPING', [], message, contents.range?.[0]);
      return undefined;
    }
    const { data, aliasTargets } = readTree(doc, reporter);
    if (data === undefined) return undefined;
    reporter.useLocator(new Locator(doc, aliasTargets));
    const valid = checkSchema(data, reporter);
    checkRules(data, reporter);
    return valid ? data : undefined;
  } catch (error) {
    // The nesting pre-check keeps the parser's recursion shallow; this is the backstop.
    if (!(error instanceof RangeError)) throw error;
    reporter.add('error', 'GBCMS_YAML_TOO_DEEP', [], 'the file nests too deeply to be read');
    return undefined;
  }
}
