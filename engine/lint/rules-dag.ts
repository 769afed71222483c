// depends_on: every name must be another step of the file, and the steps must not wait for
// each other in a circle. Ordering follows engine/config/dag.ts, implicit edges included.

import type { StepGraph } from '../config/dag.ts';
import { findCycle, stepGraph } from '../config/dag.ts';
import type { Mapping } from './data.ts';
import { has } from './data.ts';
import type { Reporter } from './report.ts';
import type { SuggestionBudget } from './suggest.ts';

/**
 * A product limit, not a technical one: one run schedules, stores and shows every step, and
 * matrices multiply them further. No real pipeline comes close. Cycles are checked either way.
 */
export const MAX_STEPS = 1000;
const MAX_CYCLES_REPORTED = 20;
const MAX_NAMES_SHOWN = 20;

export function checkDependencies(
  steps: readonly [string, Mapping][],
  reporter: Reporter,
  hints: SuggestionBudget,
): void {
  const names = new Set(steps.map(([name]) => name));
  const edges: [string, { depends_on?: string[] }][] = [];
  for (const [name, step] of steps) {
    if (!has(step, 'depends_on')) {
      edges.push([name, {}]);
      continue;
    }
    const dependsOn = Array.isArray(step.depends_on) ? step.depends_on : [];
    const valid: string[] = [];
    for (const [index, dependency] of dependsOn.entries()) {
      if (typeof dependency !== 'string' || dependency === '') continue;
      const path = ['steps', name, 'depends_on', index];
      if (dependency === name) {
        reporter.error('GBCMS_SELF_DEPENDENCY', path, `step '${name}' cannot depend on itself`);
      } else if (!names.has(dependency)) {
        reporter.error(
          'GBCMS_UNKNOWN_STEP',
          path,
          `step '${dependency}' is not defined${hints.didYouMean(dependency, names)}`,
        );
      } else {
        valid.push(dependency);
      }
    }
    edges.push([name, { depends_on: valid }]);
  }
  if (steps.length > MAX_STEPS) {
    reporter.error(
      'GBCMS_TOO_MANY_STEPS',
      ['steps'],
      `defines ${steps.length} steps; at most ${MAX_STEPS} are allowed`,
      'key',
    );
  }
  reportCycles(stepGraph(edges), steps, reporter);
}

function reportCycles(graph: StepGraph, steps: readonly [string, Mapping][], reporter: Reporter): void {
  const order = new Map(steps.map(([name], index) => [name, index]));
  const explicit = new Set(steps.filter(([, step]) => has(step, 'depends_on')).map(([name]) => name));
  for (let reported = 0; reported < MAX_CYCLES_REPORTED; reported++) {
    const found = findCycle(graph);
    if (!found) return;
    // Start the cycle at the step that comes first in the file, so the message is stable.
    const nodes = found.slice(0, -1);
    const first = nodes.reduce(
      (best, node, i) => ((order.get(node) ?? 0) < (order.get(nodes[best] ?? '') ?? 0) ? i : best),
      0,
    );
    const cycle = [...nodes.slice(first), ...nodes.slice(0, first)];
    const [head = '', next = ''] = cycle;
    const implicit = cycle.filter((node) => !explicit.has(node));
    const why =
      implicit.length === 0
        ? ''
        : ` (${shorten(implicit, ', ')} ${implicit.length === 1 ? 'has' : 'have'} no depends_on and so ${implicit.length === 1 ? 'waits' : 'wait'} for the step above)`;
    const message = `steps wait for each other in a cycle: ${shorten([...cycle, head], ' -> ')}${why}`;
    if (explicit.has(head)) reporter.error('GBCMS_DAG_CYCLE', ['steps', head, 'depends_on'], message, 'key');
    else reporter.error('GBCMS_DAG_CYCLE', ['steps', head], message, 'key');
    graph.set(
      head,
      (graph.get(head) ?? []).filter((dependency) => dependency !== next),
    );
  }
}

/** Names in full up to a screenful; a cycle through thousands of steps keeps its ends. */
function shorten(names: readonly string[], separator: string): string {
  if (names.length <= MAX_NAMES_SHOWN) return names.join(separator);
  const end = MAX_NAMES_SHOWN / 2;
  const left = names.length - 2 * end;
  return [...names.slice(0, end), `(${left} more)`, ...names.slice(-end)].join(separator);
}
