// Artifact and report paths: they are read from the workspace and written below the run's
// artifact folder, so neither side may point outside, and two artifacts of one step must
// not overwrite each other.
import { posix } from 'node:path';
import type { Mapping } from './data.ts';
import { asList, asMapping } from './data.ts';
import type { PathSegment, Reporter } from './report.ts';

/** The problem with a path that must stay inside its folder, or undefined when it does. */
export function unsafePathProblem(path: string): string | undefined {
  if (path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:/.test(path)) {
    return `'${path}' is an absolute path; use a path relative to the workspace`;
  }
  if (path.split(/[\\/]/).includes('..')) return `'${path}' contains '..' and could leave the workspace`;
  return undefined;
}

/** `./coverage/`, `coverage` and `coverage//` all name the same destination. */
export function normaliseArtifactPath(path: string): string {
  const normal = posix.normalize(path.replaceAll('\\', '/'));
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
}

export function checkArtifacts(name: string, step: Mapping, reporter: Reporter): void {
  const base = ['steps', name, 'artifacts'];
  const destinations = new Map<string, number>();
  for (const [index, item] of asList(step.artifacts).entries()) {
    const entry = artifactEntry(item);
    if (!entry) continue;
    const checkPath = (value: string, where: PathSegment[], what: string) => {
      const problem = unsafePathProblem(value);
      if (problem) reporter.error('GBCMS_ARTIFACT_UNSAFE_PATH', where, `${what}${problem}`);
      return problem === undefined;
    };
    const itemPath = typeof item === 'string' ? [...base, index] : [...base, index, 'path'];
    const pathSafe = checkPath(entry.path, itemPath, '');
    const nameSafe =
      entry.name === undefined || checkPath(entry.name, [...base, index, 'name'], 'destination ');
    if (!(entry.name === undefined ? pathSafe : nameSafe)) continue;
    const destination = normaliseArtifactPath(entry.name ?? entry.path);
    const first = destinations.get(destination);
    if (first === undefined) {
      destinations.set(destination, index);
      continue;
    }
    const where = entry.name === undefined ? itemPath : [...base, index, 'name'];
    reporter.error(
      'GBCMS_ARTIFACT_DUPLICATE',
      where,
      `'${destination}' is already the destination of artifact ${first}; give one of them another 'name:'`,
    );
  }
  const junit = asMapping(step.reports)?.junit;
  if (typeof junit === 'string') {
    const problem = unsafePathProblem(junit);
    if (problem) reporter.error('GBCMS_REPORT_UNSAFE_PATH', ['steps', name, 'reports', 'junit'], problem);
  }
}

function artifactEntry(item: unknown): { path: string; name?: string } | undefined {
  if (typeof item === 'string') return item === '' ? undefined : { path: item };
  const mapping = asMapping(item);
  if (!mapping || typeof mapping.path !== 'string' || mapping.path === '') return undefined;
  return typeof mapping.name === 'string' && mapping.name !== ''
    ? { path: mapping.path, name: mapping.name }
    : { path: mapping.path };
}
