// The one slug rule: a step's file-system-safe name, unique in its plan. Log files, reports
// files, artifact folders and container names all use it, so a step's pieces share a name.

/** A file-system-safe name for a step: `test (node=20)` -> `test-node-20`. */
export function stepSlug(name: string): string {
  return (
    name
      .replace(/[^A-Za-z0-9_.-]+/g, '-')
      .replace(/^[-_.]+|[-_.]+$/g, '')
      .slice(0, 100) || 'step'
  );
}

/** Slugs made unique in plan order with -2, -3...: `a b` and `a-b` become `a-b` and `a-b-2`. */
export function uniqueStepSlugs(names: readonly string[]): Map<string, string> {
  const used = new Set<string>();
  const slugs = new Map<string, string>();
  for (const name of names) {
    const base = stepSlug(name);
    let slug = base;
    for (let n = 2; used.has(slug); n++) slug = `${base}-${n}`;
    used.add(slug);
    slugs.set(name, slug);
  }
  return slugs;
}
