// biome-ignore-all lint/suspicious/noTemplateCurlyInString: messages quote the ${{ NAME }} syntax
// Concurrency groups and file schedules: what the schema cannot say. A group may name only the
// variables the compiler fills (engine/config/concurrency.ts), a step's group only its own
// matrix axes; a schedule's cron and zone must be ones the server's scheduler can run, and its
// name, which is how the server knows it again at the next push, is unique in the file.
import {
  GROUP_VARIABLES,
  groupReferences,
  isGroupVariable,
  matrixAxisOf,
  unclosedReference,
} from '../config/concurrency.ts';
import { checkTiming, serverTimeZone } from '../config/cron.ts';
import type { Mapping } from './data.ts';
import { asList, asMapping } from './data.ts';
import type { PathSegment, Reporter } from './report.ts';
import type { SuggestionBudget } from './suggest.ts';

const VARIABLES_TEXT = GROUP_VARIABLES.join(', ');

/** The top-level group: the trigger's variables only (there is no matrix at that level). */
export function checkPipelineGroup(root: Mapping, reporter: Reporter, hints: SuggestionBudget): void {
  checkGroup(['concurrency'], root.concurrency, undefined, reporter, hints);
}

/** A step's group: the trigger's variables and `matrix.AXIS` of the step's own axes. */
export function checkStepGroup(
  name: string,
  step: Mapping,
  reporter: Reporter,
  hints: SuggestionBudget,
): void {
  const matrix = asMapping(step.matrix);
  checkGroup(
    ['steps', name, 'concurrency'],
    step.concurrency,
    matrix ? Object.keys(matrix) : [],
    reporter,
    hints,
  );
}

function checkGroup(
  path: readonly PathSegment[],
  concurrency: unknown,
  axes: readonly string[] | undefined,
  reporter: Reporter,
  hints: SuggestionBudget,
): void {
  const group = asMapping(concurrency)?.group;
  // Not a string: the schema says so.
  if (typeof group !== 'string') return;
  const at = [...path, 'group'];
  for (const { name } of groupReferences(group)) {
    const problem = referenceProblem(name, axes, hints);
    if (problem) reporter.error('GBCMS_CONCURRENCY_VARIABLE', at, problem);
  }
  if (unclosedReference(group)) {
    reporter.error('GBCMS_CONCURRENCY_VARIABLE', at, "has a '${{' that no '}}' closes");
  }
}

function referenceProblem(
  name: string,
  axes: readonly string[] | undefined,
  hints: SuggestionBudget,
): string | undefined {
  if (isGroupVariable(name)) return undefined;
  const axis = matrixAxisOf(name);
  if (axis !== undefined) {
    if (axes === undefined) {
      return `\${{ ${name} }}: a top-level group has no matrix; name ${VARIABLES_TEXT}, or put the group on the step`;
    }
    if (axes.includes(axis)) return undefined;
    if (axes.length === 0) return `\${{ ${name} }}: the step has no 'matrix:'`;
    return `\${{ ${name} }} names no axis of this step's matrix (${axes.join(', ')})${hints.didYouMean(axis, axes)}`;
  }
  const known = [...GROUP_VARIABLES, ...(axes ?? []).map((a) => `matrix.${a}`)];
  return `unknown variable \${{ ${name} }}; a group may use ${known.join(', ')}${hints.didYouMean(name, known)}`;
}

/** Each schedule's timing, and names unique in the file. */
export function checkSchedules(root: Mapping, reporter: Reporter): void {
  const firstByName = new Map<string, number>();
  for (const [index, item] of asList(root.schedules).entries()) {
    const schedule = asMapping(item);
    if (!schedule) continue;
    const path = ['schedules', index];
    const { name, cron, timezone } = schedule;
    if (typeof name === 'string') {
      const first = firstByName.get(name);
      if (first === undefined) firstByName.set(name, index);
      else {
        reporter.error(
          'GBCMS_SCHEDULE_DUPLICATE_NAME',
          [...path, 'name'],
          `'${name}' is also the name of schedule ${first}; the server tells schedules apart by name, rename one`,
        );
      }
    }
    // Other shapes, and empty strings, are the schema's findings.
    if (typeof cron !== 'string' || cron.trim() === '') continue;
    const zone = typeof timezone === 'string' && timezone !== '' ? timezone : serverTimeZone();
    const check = checkTiming({ cron, timezone: zone });
    if (check.ok) continue;
    const code = check.field === 'cron' ? 'GBCMS_SCHEDULE_CRON' : 'GBCMS_SCHEDULE_TIMEZONE';
    reporter.error(code, [...path, check.field], check.message);
  }
}
