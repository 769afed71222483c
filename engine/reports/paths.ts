// Where a step's reports file lives inside its workspace. The engine and every backend derive it
// from the plan alone, so the backend that sets $GBCMS_REPORTS and the engine that reads it
// agree without passing the path around.
import type { Plan } from '../plan.ts';
import { stepSlug, uniqueStepSlugs } from '../step-runner.ts';

/** Workspace-relative folder of the reports files; the workspace seeding creates it writable. */
export const REPORTS_DIR = '.gbcms/reports';

const slugsByPlan = new WeakMap<Plan, Map<string, string>>();

/** `.gbcms/reports/<step-slug>.jsonl`, the slug being the one the step's log file uses too. */
export function reportsFileFor(plan: Plan, stepName: string): string {
  let slugs = slugsByPlan.get(plan);
  if (!slugs) {
    slugs = uniqueStepSlugs(plan.steps);
    slugsByPlan.set(plan, slugs);
  }
  // A step outside the plan (a backend driven by hand) still gets a stable path.
  return `${REPORTS_DIR}/${slugs.get(stepName) ?? stepSlug(stepName)}.jsonl`;
}

/**
 * `path` as a clean workspace-relative posix path, or undefined when it would leave the
 * workspace (absolute, `..`) or name the workspace itself.
 */
export function workspaceRelative(path: string): string | undefined {
  if (path.includes('\0') || path.startsWith('/') || path.includes('\\')) return undefined;
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return undefined;
    parts.push(part);
  }
  return parts.length === 0 ? undefined : parts.join('/');
}
