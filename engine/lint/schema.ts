// Checks the data against schemas/pipeline.schema.json with Ajv and turns Ajv's errors into
// one readable, positioned diagnostic per problem.
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { PipelineFile } from '../config/pipeline-file.generated.ts';
import { parseDuration, parseSize } from '../config/units.ts';
import { schemaMessage } from './messages.ts';
import type { PathSegment, Reporter } from './report.ts';
import type { SchemaNode } from './schema-tree.ts';
import { describeSchema, isSchemaNode, ROOT_SCHEMA, shapeMatches } from './schema-tree.ts';

/** One schema problem, with Ajv's JSON pointer already turned into a data path. */
export interface SchemaIssue {
  keyword: string;
  path: PathSegment[];
  params: Readonly<Record<string, unknown>>;
  /** The subschema holding the failed keyword. */
  schema: SchemaNode;
  /** The value at `path`. */
  data: unknown;
  /** Set for errors about a mapping key's name (`propertyNames`). */
  propertyName?: string;
  /** Set when several alternatives were collapsed into one "expected X or Y" issue. */
  expected?: string;
  ajvMessage?: string;
}

let compiled: ValidateFunction<PipelineFile> | undefined;

function validator(): ValidateFunction<PipelineFile> {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, verbose: true, allowUnionTypes: true, logger: false });
    // Read by json-schema-to-typescript only (a readable type instead of a tuple per length).
    ajv.addKeyword({ keyword: 'tsType', schemaType: 'string' });
    ajv.addFormat('duration', { type: 'string', validate: (text) => parseDuration(text) !== undefined });
    ajv.addFormat('size', { type: 'string', validate: (text) => parseSize(text) !== undefined });
    compiled = ajv.compile<PipelineFile>(ROOT_SCHEMA);
  }
  return compiled;
}

/** Validates, reports every problem, and narrows the data when it fits the schema. */
export function checkSchema(data: unknown, reporter: Reporter): data is PipelineFile {
  const validate = validator();
  if (validate(data)) return true;
  const seen = new Set<string>();
  for (const issue of collapseAlternatives((validate.errors ?? []).map((e) => toIssue(e, data)))) {
    const finding = schemaMessage(issue);
    const key = `${finding.code}\0${finding.path.join('\0')}\0${finding.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    reporter.error(finding.code, finding.path, finding.message, finding.anchor);
  }
  return false;
}

function toIssue(error: ErrorObject, root: unknown): SchemaIssue {
  const path: PathSegment[] = [];
  let value = root;
  for (const raw of error.instancePath.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(value)) {
      const index = Number(segment);
      path.push(index);
      value = value[index];
    } else {
      path.push(segment);
      value = typeof value === 'object' && value !== null ? Reflect.get(value, segment) : undefined;
    }
  }
  const issue: SchemaIssue = {
    keyword: error.keyword,
    path,
    params: { ...error.params },
    schema: isSchemaNode(error.parentSchema) ? error.parentSchema : {},
    data: value,
  };
  if (error.propertyName !== undefined) issue.propertyName = error.propertyName;
  if (error.message !== undefined) issue.ajvMessage = error.message;
  return issue;
}

const within = (inner: readonly PathSegment[], outer: readonly PathSegment[]) =>
  inner.length >= outer.length && outer.every((segment, i) => segment === inner[i]);

const samePath = (a: readonly PathSegment[], b: readonly PathSegment[]) =>
  a.length === b.length && within(a, b);

/**
 * Ajv reports a failed oneOf/anyOf as the errors of every alternative plus one summary.
 * Keep the errors of the alternatives the value could have meant (its type fits); when
 * none fits, say once what was expected instead.
 */
export function collapseAlternatives(issues: readonly SchemaIssue[]): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  for (const issue of issues) {
    if (issue.keyword === 'propertyNames') continue; // the inner error names the key
    if (issue.keyword !== 'oneOf' && issue.keyword !== 'anyOf') {
      out.push(issue);
      continue;
    }
    // An alternative's errors come right before the summary, at or below its path.
    const branches: SchemaIssue[] = [];
    while (out.length > 0) {
      const last = out[out.length - 1];
      if (!last || !within(last.path, issue.path)) break;
      branches.unshift(last);
      out.pop();
    }
    if (Array.isArray(issue.params.passingSchemas)) {
      out.push({ ...issue, keyword: 'ambiguous' });
      continue;
    }
    const relevant = branches.filter((branch) => {
      if (!samePath(branch.path, issue.path)) return true;
      if (branch.keyword === 'type') return false;
      if (branch.keyword === 'enum' || branch.keyword === 'const')
        return shapeMatches(branch.schema, branch.data);
      return true;
    });
    if (relevant.length > 0) {
      out.push(...relevant);
    } else {
      const expected = describeSchema({ [issue.keyword]: issue.schema[issue.keyword] });
      out.push({ ...issue, keyword: 'type', expected });
    }
  }
  return out;
}
