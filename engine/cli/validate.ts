// `gbcms validate`: checks pipeline files and prints every problem as FILE:LINE:COL, the
// form editors and terminals turn into links. Reads only; nothing runs.
import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics.ts';
import { formatDiagnostic, hasErrors } from '../diagnostics.ts';
import { loadPlan } from '../load-plan.ts';
import { defaultPipelinePath, PipelineReadError } from '../pipeline.ts';
import { commandArgs } from './args.ts';
import { count } from './count.ts';
import { INCLUDE_HELP, INCLUDE_OPTIONS, remoteFromOptions } from './include-options.ts';
import type { CliIO } from './io.ts';

const HELP = `usage: gbcms validate [FILE|DIR ...] [--json]

Checks pipeline files and prints each problem as FILE:LINE:COL: SEVERITY CODE: message.
A DIR stands for DIR/.gbcms.yml; with no argument, .gbcms.yml in the current directory.

options:
  --json       print {"files":[{"file","valid","diagnostics"}]} on stdout instead
${INCLUDE_HELP}  -h, --help   this text

exit: 0 valid (warnings allowed), 1 invalid, 2 usage error or unreadable file
`;

export interface ValidatedFile {
  file: string;
  valid: boolean;
  diagnostics: Diagnostic[];
}

export async function validateCommand(argv: string[], io: CliIO): Promise<number> {
  const args = commandArgs('validate', argv, { json: { type: 'boolean' }, ...INCLUDE_OPTIONS }, HELP, io);
  if (typeof args === 'number') return args;
  const json = args.values.json === true;
  const targets = args.positionals.length > 0 ? args.positionals : ['.'];

  const results: ValidatedFile[] = [];
  let unreadable = 0;
  for (const target of targets) {
    const { path, display } = await locate(io.cwd, target);
    try {
      const remote = remoteFromOptions(args.values, io.env);
      const loaded = await loadPlan({ path, display, workspace: dirname(path), remote });
      results.push({ file: display, valid: !hasErrors(loaded.diagnostics), diagnostics: loaded.diagnostics });
    } catch (error) {
      if (!(error instanceof PipelineReadError)) throw error;
      unreadable++;
      io.stderr.write(`gbcms validate: ${error.message}\n`);
      const diagnostic: Diagnostic = {
        severity: 'error',
        code: 'GBCMS_FILE_UNREADABLE',
        message: error.message,
        file: display,
        path: '',
      };
      results.push({ file: display, valid: false, diagnostics: [diagnostic] });
    }
  }

  if (json) {
    io.stdout.write(`${JSON.stringify({ files: results }, null, 2)}\n`);
  } else {
    for (const result of results) {
      if (result.diagnostics.some((d) => d.code === 'GBCMS_FILE_UNREADABLE')) continue;
      for (const diagnostic of result.diagnostics) io.stdout.write(`${formatDiagnostic(diagnostic)}\n`);
    }
  }
  io.stderr.write(`${summary(results)}\n`);
  if (unreadable > 0) return 2;
  return results.every((r) => r.valid) ? 0 : 1;
}

/** A DIR means its pipeline file; the name shown keeps the form the user typed. */
async function locate(cwd: string, target: string): Promise<{ path: string; display: string }> {
  const path = resolve(cwd, target);
  const isDirectory = await stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!isDirectory) return { path, display: target };
  const file = defaultPipelinePath(path);
  return { path: file, display: join(target, basename(file)) };
}

export function summary(results: readonly ValidatedFile[]): string {
  const all = results.flatMap((r) => r.diagnostics);
  const errors = all.filter((d) => d.severity === 'error').length;
  const warnings = all.length - errors;
  const problems = [errors > 0 ? count(errors, 'error') : '', warnings > 0 ? count(warnings, 'warning') : '']
    .filter(Boolean)
    .join(', ');
  if (results.length === 1 && results[0]) {
    const [only] = results;
    if (only.valid) return `${only.file}: valid${problems ? `, ${problems}` : ''}`;
    return `${only.file}: invalid, ${problems}`;
  }
  const invalid = results.filter((r) => !r.valid).length;
  const verdict = invalid === 0 ? 'all valid' : `${results.length - invalid} valid, ${invalid} invalid`;
  return `${count(results.length, 'file')}: ${verdict}${problems ? ` (${problems})` : ''}`;
}
