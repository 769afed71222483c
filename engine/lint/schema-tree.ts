// Reading the pipeline JSON Schema itself: resolving `$ref`s and describing a subschema in
// words ("a list of strings"), for messages about what a value should have been.
import pipelineSchema from '../../schemas/pipeline.schema.json' with { type: 'json' };

export type SchemaNode = { readonly [keyword: string]: unknown };

export const ROOT_SCHEMA: SchemaNode = pipelineSchema;

export function isSchemaNode(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follows `#/...` references within the pipeline schema. */
export function resolveSchema(node: unknown): SchemaNode | undefined {
  let current = node;
  for (let hops = 0; hops < 16 && isSchemaNode(current) && typeof current.$ref === 'string'; hops++) {
    const ref = current.$ref;
    if (!ref.startsWith('#/')) return undefined;
    let target: unknown = ROOT_SCHEMA;
    for (const part of ref.slice(2).split('/')) {
      target = isSchemaNode(target) ? target[part.replaceAll('~1', '/').replaceAll('~0', '~')] : undefined;
    }
    current = target;
  }
  return isSchemaNode(current) ? current : undefined;
}

/** The keys a mapping schema defines, leaving out those it rejects on purpose (`false`). */
export function definedKeys(node: SchemaNode): string[] {
  const properties = node.properties;
  if (!isSchemaNode(properties)) return [];
  return Object.entries(properties)
    .filter(([, schema]) => schema !== false)
    .map(([key]) => key);
}

export function schemaTypes(node: SchemaNode): string[] {
  const type = node.type;
  if (typeof type === 'string') return [type];
  return Array.isArray(type) ? type.filter((t): t is string => typeof t === 'string') : [];
}

export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** Whether a value has a JSON type the subschema could accept at all. */
export function shapeMatches(node: SchemaNode, value: unknown): boolean {
  const actual = jsonType(value);
  const fits = (type: string) => type === actual || (type === 'number' && actual === 'integer');
  const types = schemaTypes(node);
  if (types.length > 0) return types.some(fits);
  const allowed = Array.isArray(node.enum) ? node.enum : 'const' in node ? [node.const] : undefined;
  return allowed === undefined || allowed.some((v) => fits(jsonType(v)));
}

/** `'text'` for strings (shortened), the literal for everything else. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') {
    const short = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `'${short.replaceAll('\n', '\\n')}'`;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** What a value is, for "got ..." in messages. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${showValue(value)}`;
  return showValue(value);
}

export function joinOr(parts: readonly string[]): string {
  if (parts.length <= 1) return parts[0] ?? '';
  return `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

const SINGULAR: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true/false',
  object: 'a mapping',
  null: 'nothing',
};
const PLURAL: Record<string, string> = {
  string: 'strings',
  integer: 'whole numbers',
  number: 'numbers',
  boolean: 'booleans',
  object: 'mappings',
  array: 'lists',
};

/** "a list of strings", "one of none, bridge", "a duration like 90s, 10m or 1h30m", ... */
export function describeSchema(input: unknown): string {
  const node = resolveSchema(input);
  if (!node) return 'something else';
  const alternatives = Array.isArray(node.oneOf)
    ? node.oneOf
    : Array.isArray(node.anyOf)
      ? node.anyOf
      : undefined;
  if (alternatives) return describeAlternatives(alternatives);
  if (Array.isArray(node.enum)) return `one of ${node.enum.map((v) => String(v)).join(', ')}`;
  if ('const' in node) return showValue(node.const);
  if (node.format === 'duration') return 'a duration like 90s, 10m or 1h30m';
  if (node.format === 'size') return 'a size like 512m, 1g or 1.5GiB';
  const types = schemaTypes(node);
  if (types.length === 0) return 'something else';
  return joinOr(
    types.map((type) =>
      type === 'array' ? `a list of ${describePlural(node.items)}` : (SINGULAR[type] ?? type),
    ),
  );
}

function describeAlternatives(alternatives: readonly unknown[]): string {
  const resolved = alternatives.map(resolveSchema);
  return joinOr(
    resolved.map((node) => {
      if (!node) return 'something else';
      // `event` or a list of events: say "a list of them" rather than repeat the list.
      const items = resolveSchema(node.items);
      if (schemaTypes(node).includes('array') && items && resolved.includes(items)) return 'a list of them';
      return describeSchema(node);
    }),
  );
}

function describePlural(items: unknown): string {
  const node = resolveSchema(items);
  if (!node) return 'values';
  const alternatives = Array.isArray(node.oneOf)
    ? node.oneOf
    : Array.isArray(node.anyOf)
      ? node.anyOf
      : undefined;
  if (alternatives) return joinOr(alternatives.map(describePlural));
  if (Array.isArray(node.enum)) return `values out of ${node.enum.map((v) => String(v)).join(', ')}`;
  const types = schemaTypes(node);
  return types.length === 0 ? 'values' : joinOr(types.map((type) => PLURAL[type] ?? type));
}
