// One pipeline file, from bytes to plain data with positions: the text guards, the YAML
// parse and the tree walk. A pipeline and each file it includes go through here alike, so
// the hostile-input rules hold for every one of them.
import { isMap, isScalar, isSeq, LineCounter } from 'yaml';
import type { Mapping } from './data.ts';
import { findExcessNesting, MAX_NESTING } from './nesting.ts';
import { FileLocator, Locator, type Reporter } from './report.ts';
import {
  codePointName,
  forbiddenCharacter,
  invalidUtf8Offset,
  loneSurrogateOffset,
  positionAt,
} from './text-guards.ts';
import { parseYaml } from './yaml-parse.ts';
import { type AliasBudget, readTree } from './yaml-tree.ts';

export const MAX_PIPELINE_BYTES = 1024 * 1024;

export interface ParsedFile {
  /** The file as messages name it. */
  file: string;
  /** The top-level mapping, not yet checked against the schema. */
  data: Mapping;
  places: FileLocator;
}

export function tooLargeMessage(bytes: number): string {
  return `the file is ${bytes} bytes; pipeline files are limited to ${MAX_PIPELINE_BYTES} bytes (1 MiB)`;
}

/**
 * Reads one file's text into data; every problem goes to `reporter` under `file`. Undefined
 * when the file is not a readable YAML mapping. `budget` is shared by the files of one
 * pipeline.
 */
export function parseFile(
  source: string | Uint8Array,
  file: string,
  reporter: Reporter,
  budget: AliasBudget,
): ParsedFile | undefined {
  reporter.useFile(file);
  const text = readText(source, reporter);
  if (text === undefined) return undefined;
  try {
    return parseText(text, file, reporter, budget);
  } catch (error) {
    // The nesting pre-check keeps the parser's recursion shallow; this is the backstop.
    if (!(error instanceof RangeError)) throw error;
    reporter.add('error', 'GBCMS_YAML_TOO_DEEP', [], 'the file nests too deeply to be read');
    return undefined;
  }
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

function parseText(
  text: string,
  file: string,
  reporter: Reporter,
  budget: AliasBudget,
): ParsedFile | undefined {
  const deep = findExcessNesting(text);
  if (deep !== undefined) {
    const message = `nesting goes deeper than ${MAX_NESTING} levels`;
    reporter.add('error', 'GBCMS_YAML_TOO_DEEP', [], message, positionAt(text, deep));
    return undefined;
  }
  const lines = new LineCounter();
  reporter.useLines(lines);
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
  const { data, aliasTargets } = readTree(doc, reporter, budget);
  if (data === undefined) return undefined;
  const places = new FileLocator(file, lines, new Locator(doc, aliasTargets));
  reporter.usePlaces(places);
  return { file, data: data as Mapping, places };
}
