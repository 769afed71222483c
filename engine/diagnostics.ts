// A problem found in a pipeline file. Problems are collected and reported together,
// never thrown one at a time: a user fixes the whole file in one pass.
export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** Stable code, e.g. GBCMS_SCHEMA_TYPE, GBCMS_DAG_CYCLE. */
  code: string;
  message: string;
  file: string;
  /** Dotted path to the offending value, e.g. `steps.test.timeout`; '' for the whole file. */
  path: string;
  line?: number;
  col?: number;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** `FILE:LINE:COL: error CODE: message`, the form editors and terminals link to. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line === undefined ? d.file : `${d.file}:${d.line}:${d.col ?? 1}`;
  return `${where}: ${d.severity} ${d.code}: ${d.message}`;
}

/** Sorts by position so output reads top to bottom like the file. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.col ?? 0) - (b.col ?? 0) ||
      a.code.localeCompare(b.code),
  );
}
