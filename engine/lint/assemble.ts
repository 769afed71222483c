// Joins a pipeline file and the files it includes into one pipeline. An included file adds
// templates, environments and steps; everything else about a pipeline (its name, version,
// env) is said once, in the pipeline file. A name defined in two files is an error naming
// both places: silently letting one win would run a step nobody reviewed.
import { asMapping } from './data.ts';
import { Origins, SHARED_SECTIONS } from './origins.ts';
import type { ParsedFile } from './parse-file.ts';
import type { Reporter } from './report.ts';

const INCLUDED_KEYS = new Set<string>(['include', ...SHARED_SECTIONS]);

export interface Assembled {
  data: Record<string, unknown>;
  origins: Origins;
}

/**
 * The pipeline `root` with `included` (in include order) added. Entries of included files
 * come before the file's own, as if pasted where `include:` stands at the top.
 */
export function assemble(root: ParsedFile, included: readonly ParsedFile[], reporter: Reporter): Assembled {
  const origins = new Origins(root.places);
  // The includes are followed by now; what is left is one pipeline.
  const data: Record<string, unknown> = { ...root.data };
  delete data.include;
  for (const file of included) checkIncludedKeys(file, reporter);
  for (const section of SHARED_SECTIONS) {
    if (!included.some((file) => asMapping(file.data[section]))) continue;
    const firstAt = new Map<string, ParsedFile>();
    const own = asMapping(root.data[section]);
    // A section of the wrong type is the schema's finding; its entries are left out here.
    if (root.data[section] !== undefined && !own) continue;
    for (const name of Object.keys(own ?? {})) firstAt.set(name, root);
    const joined: Record<string, unknown> = {};
    for (const file of included) {
      for (const [name, entry] of Object.entries(asMapping(file.data[section]) ?? {})) {
        const first = firstAt.get(name);
        if (first) {
          reportDuplicate(section, name, file, first, reporter);
          continue;
        }
        firstAt.set(name, file);
        origins.defineEntry(section, name, file.places);
        joined[name] = entry;
      }
    }
    data[section] = { ...joined, ...own };
  }
  return { data, origins };
}

function checkIncludedKeys(file: ParsedFile, reporter: Reporter): void {
  for (const key of Object.keys(file.data)) {
    if (INCLUDED_KEYS.has(key)) {
      const value = file.data[key];
      if (key === 'include' || asMapping(value)) continue;
      const { position } = file.places.place([key], 'value');
      reporter.add(
        'error',
        'GBCMS_SCHEMA_TYPE',
        [key],
        'must be a mapping of names to entries',
        position,
        file.file,
      );
      continue;
    }
    const { position } = file.places.place([key], 'key');
    const message = `an included file holds only include, templates, environments and steps; '${key}' belongs in the pipeline file`;
    reporter.add('error', 'GBCMS_INCLUDE_KEY', [key], message, position, file.file);
  }
}

function reportDuplicate(
  section: string,
  name: string,
  file: ParsedFile,
  first: ParsedFile,
  reporter: Reporter,
): void {
  const path = [section, name];
  const here = file.places.place(path, 'key');
  const there = first.places.place(path, 'key');
  const where = there.position ? `${there.file}:${there.position.line}:${there.position.col}` : there.file;
  const what = { templates: 'template', environments: 'environment', steps: 'step' }[section] ?? section;
  reporter.add(
    'error',
    'GBCMS_DUPLICATE_DEFINITION',
    path,
    `${what} '${name}' is also defined at ${where}; rename one of them`,
    here.position,
    file.file,
  );
}
