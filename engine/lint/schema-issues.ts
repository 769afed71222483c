// Ajv's errors as issues: each JSON pointer turned into a data path with the value found
// there, and the noise of failed oneOf/anyOf alternatives cut down to what the value could
// have meant. The schema check makes them; the messages module words them.
import type { ErrorObject } from 'ajv/dist/2020.js';
import type { PathSegment } from './report.ts';
import type { SchemaNode } from './schema-tree.ts';
import { describeSchema, isSchemaNode, shapeMatches } from './schema-tree.ts';

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

/** An Ajv error with its JSON pointer walked through the data, so the issue knows the value too. */
export function toIssue(error: ErrorObject, root: unknown): SchemaIssue {
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
