// Guards for reading data that may not fit the schema yet: rules use them to check what
// they can and skip what the schema check already reported.

export type Mapping = Readonly<Record<string, unknown>>;

export function asMapping(value: unknown): Mapping | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Mapping)
    : undefined;
}

/** The entries of a mapping whose values are mappings themselves. */
export function mappingEntries(value: unknown): [string, Mapping][] {
  const mapping = asMapping(value);
  if (!mapping) return [];
  const entries: [string, Mapping][] = [];
  for (const [key, child] of Object.entries(mapping)) {
    const childMapping = asMapping(child);
    if (childMapping) entries.push([key, childMapping]);
  }
  return entries;
}

export function asList(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

export function has(mapping: Mapping, key: string): boolean {
  return Object.hasOwn(mapping, key) && mapping[key] !== undefined;
}
