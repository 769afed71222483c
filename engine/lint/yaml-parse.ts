// Parses pipeline text into a YAML tree that keeps positions, so every later finding can
// point at a line and column. Parser errors become diagnostics; nothing here throws on
// bad input. It is the first pass of the linter, not a step before it: its findings are
// GBCMS_YAML_* codes reported through the same Reporter as the text guards before it and
// the tree checks after it.
import type { CST, Document, LineCounter, YAMLError } from 'yaml';
import { Composer, Lexer, Parser, YAMLParseError } from 'yaml';
import type { LintCode } from './codes.ts';
import type { Reporter } from './report.ts';

/**
 * Lexical tokens (keys, values, indicators, brackets, commas, line breaks, and the lines and
 * escapes inside a string) one file may hold: twice the ~100,000 of an honest 1 MiB pipeline
 * of 1000 steps. The parser's cost per token is high, so 1 MiB of `,` or `]` (a token per
 * byte) would take it tens of seconds; counting tokens as they are read stops such a file
 * after a bounded amount of work.
 */
export const MAX_YAML_TOKENS = 200_000;

export interface ParsedYaml {
  doc?: Document.Parsed;
  /** False when the parser could not read the text: later checks would only add noise. */
  readable: boolean;
}

const OPTIONS = {
  prettyErrors: false,
  // YAML 1.2 core schema: no `<<` merging, no yes/no booleans; a %YAML 1.1 directive
  // still switches schemas, so merge is off explicitly too.
  version: '1.2',
  merge: false,
  // The tree walk reports duplicates with both positions; the parser's message has one.
  uniqueKeys: false,
  strict: true,
} as const;

/** Parses one YAML document with the options gbcms reads pipeline files with. */
export function parseYaml(text: string, lines: LineCounter, reporter: Reporter): ParsedYaml {
  let refusedAt: number | undefined;
  const doc = withoutErrorStacks(() =>
    firstDocument(text, lines, (offset) => {
      refusedAt = offset;
    }),
  );
  if (refusedAt !== undefined) {
    const message = `the file is too dense to read: more than ${MAX_YAML_TOKENS} YAML tokens (keys, values, brackets, commas, lines, escapes) by here; nothing past this point is read`;
    reporter.atOffset('error', 'GBCMS_YAML_TOO_COMPLEX', [], message, refusedAt);
    return { readable: false };
  }
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

/**
 * yaml's parseDocument, with the lexer's tokens counted on their way to the parser: past
 * MAX_YAML_TOKENS, `refuse` is told the offset reached and reading stops (the composer only
 * builds a document once its last token is read, so nothing more is done).
 */
function firstDocument(text: string, lines: LineCounter, refuse: (offset: number) => void): Document.Parsed {
  const parser = new Parser(lines.addNewLine);
  function* tokens(): Generator<CST.Token> {
    lines.addNewLine(0);
    let count = 0;
    for (const lexeme of new Lexer().lex(text)) {
      count += lexeme.length > 1 ? 1 + innerWork(lexeme) : 1;
      if (count > MAX_YAML_TOKENS) {
        refuse(parser.offset);
        return;
      }
      yield* parser.next(lexeme);
    }
    yield* parser.end();
  }
  let first: Document.Parsed | undefined;
  for (const doc of new Composer(OPTIONS).compose(tokens(), true, text.length)) {
    if (first) {
      first.errors.push(
        new YAMLParseError(
          doc.range.slice(0, 2) as [number, number],
          'MULTIPLE_DOCS',
          'Source contains multiple documents',
        ),
      );
      break;
    }
    first = doc;
  }
  // compose(..., true) always ends with a document, an empty one for empty text.
  if (!first) throw new Error('the YAML composer returned no document');
  return first;
}

/**
 * Line breaks and backslashes inside one token: the composer folds a multi-line string line
 * by line and decodes each escape of a double-quoted one (an invalid escape is an error
 * object), so a 1 MiB string of `\\q` costs as much as a million tokens.
 */
function innerWork(lexeme: string): number {
  let work = 0;
  for (let at = lexeme.indexOf('\n'); at !== -1; at = lexeme.indexOf('\n', at + 1)) work++;
  for (let at = lexeme.indexOf('\\'); at !== -1; at = lexeme.indexOf('\\', at + 1)) work++;
  return work;
}

/**
 * Runs `parse` with Error.stackTraceLimit at 0: the parser builds an error object per bad
 * token, and capturing each one's stack (which nobody reads) made a file of 150,000 stray `]`
 * cost ten times an honest 1 MiB pipeline. Parsing is synchronous, so nothing else runs
 * while the limit is lowered.
 */
function withoutErrorStacks<T>(parse: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return parse();
  } finally {
    Error.stackTraceLimit = limit;
  }
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
