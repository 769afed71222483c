// An invalid pipeline file's errors, each with the lines of the file around it, kept beside the
// execution's logs as diagnostics.json: the checkout is gone once the execution ends, and the
// run page shows the mistake in place. The reason column keeps the one-line-per-error text for
// the API, forge statuses and older pages.
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { type Diagnostic, formatDiagnostic } from '../../engine/diagnostics.ts';
import { type SourceExcerpt, sourceExcerpt } from '../../engine/source-excerpt.ts';
import { readRunJsonArray, writeRunJson } from './run-file-json.ts';

export const DIAGNOSTICS_FILE = 'diagnostics.json';
/** A file larger than the linter reads (1 MiB) is not read again for excerpts. */
const MAX_SOURCE_BYTES = 1024 * 1024;

export interface ShownDiagnostic {
  /** `FILE:LINE:COL: error CODE: message`, as in the reason. */
  text: string;
  file: string;
  line?: number;
  col?: number;
  severity: Diagnostic['severity'];
  code: string;
  message: string;
  source?: SourceExcerpt;
}

export interface PipelineFileNames {
  /** Absolute path of the pipeline file. */
  path: string;
  /** The name diagnostics give it. */
  display: string;
  /** The checkout: no file outside it is read. */
  workspace: string;
}

/**
 * The diagnostics with their excerpts. Included files are found the way their names were
 * made (relative to the pipeline file); a remote include, or anything that resolves outside
 * the checkout, gets no excerpt.
 */
export async function withSource(
  diagnostics: readonly Diagnostic[],
  names: PipelineFileNames,
): Promise<ShownDiagnostic[]> {
  const texts = new Map<string, Promise<string | undefined>>();
  const textOf = (file: string) => {
    let text = texts.get(file);
    if (!text) {
      text = readSource(file, names);
      texts.set(file, text);
    }
    return text;
  };
  return Promise.all(
    diagnostics.map(async (d) => {
      const shown: ShownDiagnostic = {
        text: formatDiagnostic(d),
        file: d.file,
        severity: d.severity,
        code: d.code,
        message: d.message,
        ...(d.line !== undefined ? { line: d.line, col: d.col ?? 1 } : {}),
      };
      if (d.line === undefined) return shown;
      const text = await textOf(d.file);
      const source = text === undefined ? undefined : sourceExcerpt(text, d.line, d.col ?? 1);
      return source ? { ...shown, source } : shown;
    }),
  );
}

async function readSource(file: string, names: PipelineFileNames): Promise<string | undefined> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) return undefined;
  const path = resolve(dirname(names.path), relative(dirname(names.display), file));
  try {
    // Links are followed only to files inside the checkout, as the linter reads them.
    const [real, root] = await Promise.all([realpath(path), realpath(names.workspace)]);
    const inside = relative(root, real);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return undefined;
    const info = await stat(real);
    if (!info.isFile() || info.size > MAX_SOURCE_BYTES) return undefined;
    return await readFile(real, 'utf8');
  } catch {
    return undefined;
  }
}

export function writeDiagnostics(runDir: string, shown: readonly ShownDiagnostic[]): Promise<void> {
  return writeRunJson(runDir, DIAGNOSTICS_FILE, shown);
}

/** The stored diagnostics, or undefined when there are none (or they cannot be read). */
export function readDiagnostics(runDir: string): Promise<ShownDiagnostic[] | undefined> {
  return readRunJsonArray<ShownDiagnostic>(runDir, DIAGNOSTICS_FILE);
}
