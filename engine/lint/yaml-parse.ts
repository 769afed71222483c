// Parses pipeline text into a YAML tree that keeps positions, so every later finding can
// point at a line and column. Parser errors become diagnostics; nothing here throws on
// bad input. It is the first pass of the linter, not a step before it: its findings are
// GBCMS_YAML_* codes reported through the same Reporter as the text guards before it and
// the tree checks after it.
import type { Document, LineCounter, YAMLError } from 'yaml';
import { parseDocument } from 'yaml';
import type { LintCode } from './codes.ts';
import type { Reporter } from './report.ts';

export interface ParsedYaml {
  doc: Document.Parsed;
  /** False when the parser could not read the text: later checks would only add noise. */
  readable: boolean;
}

/** Parses one YAML document with the options gbcms reads pipeline files with. */
export function parseYaml(text: string, lines: LineCounter, reporter: Reporter): ParsedYaml {
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    // YAML 1.2 core schema: no `<<` merging, no yes/no booleans; a %YAML 1.1 directive
    // still switches schemas, so merge is off explicitly too.
    version: '1.2',
    merge: false,
    // The tree walk reports duplicates with both positions; the parser's message has one.
    uniqueKeys: false,
    strict: true,
  });
  let readable = true;
  for (const error of doc.errors) {
    const code = errorCode(error);
    if (code !== 'GBCMS_YAML_MULTIPLE_DOCUMENTS') readable = false;
    reporter.atOffset('error', code, [], errorMessage(error, code), error.pos[0]);
  }
  for (const warning of doc.warnings) {
    const code = warning.code === 'TAG_RESOLVE_FAILED' ? 'GBCMS_YAML_UNKNOWN_TAG' : 'GBCMS_YAML_WARNING';
    reporter.atOffset('warning', code, [], errorMessage(warning, code), warning.pos[0]);
  }
  return { doc, readable };
}

function errorCode(error: YAMLError): LintCode {
  switch (error.code) {
    case 'MULTIPLE_DOCS':
      return 'GBCMS_YAML_MULTIPLE_DOCUMENTS';
    case 'RESOURCE_EXHAUSTION':
      return 'GBCMS_YAML_TOO_DEEP';
    case 'DUPLICATE_KEY':
      return 'GBCMS_YAML_DUPLICATE_KEY';
    default:
      return 'GBCMS_YAML_SYNTAX';
  }
}

function errorMessage(error: YAMLError, code: LintCode): string {
  switch (code) {
    case 'GBCMS_YAML_MULTIPLE_DOCUMENTS':
      return "the file holds more than one YAML document; a pipeline file is one document (remove the '---')";
    case 'GBCMS_YAML_TOO_DEEP':
      return 'nesting is too deep for the YAML parser';
    case 'GBCMS_YAML_UNKNOWN_TAG':
      return `${firstLine(error.message)}; the value is read as if it had no tag`;
    default:
      return `YAML: ${firstLine(error.message)}`;
  }
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? '';
  return line.replace(/ at line \d+, column \d+:?$/, '').trim();
}
