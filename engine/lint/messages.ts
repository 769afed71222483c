// Words for schema problems: each Ajv keyword becomes a code and a sentence a person can act
// on, naming the place (`steps.test.timeout: ...`) and, for typos, the likely intent.
import type { LintCode } from './codes.ts';
import type { Anchor, PathSegment } from './report.ts';
import type { SchemaIssue } from './schema-issues.ts';
import {
  definedKeys,
  describeSchema,
  describeValue,
  ROOT_SCHEMA,
  resolveSchema,
  schemaTypes,
  showValue,
} from './schema-tree.ts';
import { didYouMean } from './suggest.ts';

export interface SchemaFinding {
  code: LintCode;
  path: PathSegment[];
  message: string;
  anchor: Anchor;
}

const DURATION_HINT = 'a duration like 90s, 10m or 1h30m';
const SIZE_HINT = 'a size like 512m, 1g or 1.5GiB';

// Sections gbcms v1 rejects on purpose, so a file written for a later version fails loudly
// instead of running without them.
// None today; the map stays so the next planned section gets a message, not a bare refusal.
const UNSUPPORTED: Record<string, string> = {};

export function schemaMessage(issue: SchemaIssue): SchemaFinding {
  const { path, params, data } = issue;
  const at = (code: LintCode, message: string, anchor: Anchor = 'value', where: PathSegment[] = path) => ({
    code,
    path: where,
    message,
    anchor,
  });
  switch (issue.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = definedKeys(issue.schema);
      const hint = didYouMean(key, allowed) || ` (allowed: ${allowed.join(', ')})`;
      const what = path.length === 0 ? 'unknown top-level key' : 'unknown key';
      return at('GBCMS_SCHEMA_UNKNOWN_KEY', `${what} '${key}'${hint}`, 'key', [...path, key]);
    }
    case 'required':
      return at('GBCMS_SCHEMA_REQUIRED', `missing required key '${String(params.missingProperty)}'`);
    case 'false schema': {
      const key = String(path[path.length - 1] ?? '');
      return at('GBCMS_SCHEMA_UNSUPPORTED', UNSUPPORTED[key] ?? `'${key}' is not allowed here`, 'key');
    }
    case 'type': {
      const expected = issue.expected ?? describeSchema(issue.schema);
      return at('GBCMS_SCHEMA_TYPE', `expected ${expected}, got ${describeValue(data)}${quoteHint(issue)}`);
    }
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.map(String) : [];
      const hint = typeof data === 'string' ? didYouMean(data, allowed) : '';
      return at('GBCMS_SCHEMA_ENUM', `${showValue(data)} is not one of ${allowed.join(', ')}${hint}`);
    }
    case 'const':
      return at('GBCMS_SCHEMA_ENUM', `must be ${showValue(params.allowedValue)}, got ${showValue(data)}`);
    case 'format':
      return params.format === 'duration'
        ? at('GBCMS_SCHEMA_DURATION', `${showValue(data)} is not ${DURATION_HINT}`)
        : at('GBCMS_SCHEMA_SIZE', `${showValue(data)} is not ${SIZE_HINT}`);
    case 'pattern':
      return patternMessage(issue);
    case 'minLength':
      return at('GBCMS_SCHEMA_EMPTY', 'must not be empty');
    case 'minItems':
      return at('GBCMS_SCHEMA_EMPTY', 'must not be an empty list');
    case 'minProperties':
      return at(
        'GBCMS_SCHEMA_EMPTY',
        path.join('.') === 'steps' ? 'must define at least one step' : 'must not be empty',
      );
    case 'maxLength':
      return at('GBCMS_SCHEMA_RANGE', `is longer than ${String(params.limit)} characters`);
    case 'maxItems':
      return at('GBCMS_SCHEMA_RANGE', `has more than ${String(params.limit)} items`);
    case 'maxProperties':
      return at('GBCMS_SCHEMA_RANGE', `has more than ${String(params.limit)} entries`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return rangeMessage(issue);
    case 'uniqueItems': {
      const later = Math.max(Number(params.i), Number(params.j));
      const earlier = Math.min(Number(params.i), Number(params.j));
      const item = Array.isArray(data) ? data[later] : undefined;
      return at(
        'GBCMS_SCHEMA_DUPLICATE',
        `${showValue(item)} is listed twice (also item ${earlier})`,
        'value',
        [...path, later],
      );
    }
    case 'ambiguous':
      return at('GBCMS_SCHEMA_INVALID', `matches more than one of: ${describeSchema(issue.schema)}`);
    default:
      return at('GBCMS_SCHEMA_INVALID', issue.ajvMessage ?? `is invalid (${issue.keyword})`);
  }
}

// YAML reads `true`, `12` or `1.0` as a boolean or number; where text was meant, say how.
function quoteHint(issue: SchemaIssue): string {
  const { data } = issue;
  // Quoting does not turn 90 into a duration or 1.5 into a size: no hint for formats.
  if (issue.expected !== undefined || issue.schema.format !== undefined) return '';
  if (!schemaTypes(issue.schema).includes('string')) return '';
  if (typeof data !== 'boolean' && typeof data !== 'number') return '';
  return ` (write "${String(data)}" in quotes to mean the text)`;
}

const NAME_RULES: Record<string, string> = {
  name: "letters, digits, '_', '.' and '-', starting with a letter or digit, at most 63 characters",
  envName: "letters, digits and '_', not starting with a digit",
  serviceName:
    "lower-case letters, digits and '-' (a DNS label), not starting or ending with '-', at most 63 characters",
};

function patternMessage(issue: SchemaIssue): SchemaFinding {
  const { path, params } = issue;
  const pattern = String(params.pattern);
  const defs = resolveSchema(ROOT_SCHEMA.$defs) ?? {};
  const ruleOf = (def: string) =>
    resolveSchema(defs[def])?.pattern === pattern ? NAME_RULES[def] : undefined;
  const rule = ruleOf('name') ?? ruleOf('envName') ?? ruleOf('serviceName');
  if (issue.propertyName !== undefined) {
    const noun = nameNoun(path[path.length - 1]);
    const message = `${showValue(issue.propertyName)} is not a valid ${noun}${rule ? `: use ${rule}` : ''}`;
    return { code: 'GBCMS_SCHEMA_NAME', path: [...path, issue.propertyName], message, anchor: 'key' };
  }
  const value = showValue(issue.data);
  if (rule) {
    const noun = path.includes('secrets') ? 'secret name' : 'name';
    return {
      code: 'GBCMS_SCHEMA_NAME',
      path,
      message: `${value} is not a valid ${noun}: use ${rule}`,
      anchor: 'value',
    };
  }
  const field = path[path.length - 1];
  const message =
    field === 'image'
      ? `${value} is not a valid image reference (${imageRule(path, issue.data)})`
      : field === 'user'
        ? `${value} is not a user like 1000, 1000:1000 or node`
        : `${value} does not match ${pattern}`;
  return { code: 'GBCMS_SCHEMA_PATTERN', path, message, anchor: 'value' };
}

// Only a step's image is expanded per matrix combination: an environment is shared by
// steps with different matrices, or none.
function imageRule(path: readonly PathSegment[], data: unknown): string {
  const syntax = `\${{ matrix.AXIS }}`;
  if (path[0] === 'steps') return `it must not contain spaces, except inside ${syntax}`;
  if (typeof data === 'string' && data.includes('${{')) {
    return `${syntax} is replaced in a step's image, not in an environment's`;
  }
  return 'it must not contain spaces';
}

function nameNoun(container: PathSegment | undefined): string {
  switch (container) {
    case 'steps':
      return 'step name';
    case 'environments':
      return 'environment name';
    case 'matrix':
      return 'matrix axis name';
    case 'services':
      return 'service name';
    case 'env':
    case 'args':
      return 'variable name';
    default:
      return 'name';
  }
}

function rangeMessage(issue: SchemaIssue): SchemaFinding {
  const { path, params, data } = issue;
  const limit = String(params.limit);
  // A size is a string or a byte count; a count below 1 is as wrong as 'lots'.
  if (issue.schema.format === 'size') {
    return {
      code: 'GBCMS_SCHEMA_SIZE',
      path,
      message: `${showValue(data)} is not ${SIZE_HINT}`,
      anchor: 'value',
    };
  }
  const bound: Record<string, string> = {
    minimum: `at least ${limit}`,
    maximum: `at most ${limit}`,
    exclusiveMinimum: `more than ${limit}`,
    exclusiveMaximum: `less than ${limit}`,
  };
  const message = `${showValue(data)} is out of range: must be ${bound[issue.keyword] ?? limit}`;
  return { code: 'GBCMS_SCHEMA_RANGE', path, message, anchor: 'value' };
}
