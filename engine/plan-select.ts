// Narrows a plan to some steps and everything they need, for `gbcms run --step NAME`.
import type { Plan } from './plan.ts';

export class UnknownStepError extends Error {
  constructor(
    readonly names: string[],
    readonly available: string[],
  ) {
    super(`unknown step ${names.map((n) => `'${n}'`).join(', ')}; steps: ${available.join(', ')}`);
  }
}

/** Keeps the named steps (a matrix step's base name selects all its combinations) and their dependencies. */
export function selectSteps(plan: Plan, names: readonly string[]): Plan {
  if (names.length === 0) return plan;
  const unknown = names.filter((n) => !plan.steps.some((s) => s.name === n || s.baseName === n));
  if (unknown.length > 0)
    throw new UnknownStepError(unknown, [...new Set(plan.steps.map((s) => s.baseName))]);
  const byName = new Map(plan.steps.map((s) => [s.name, s]));
  const keep = new Set<string>();
  const visit = (name: string) => {
    if (keep.has(name)) return;
    keep.add(name);
    for (const dep of byName.get(name)?.dependsOn ?? []) visit(dep);
  };
  for (const step of plan.steps)
    if (names.includes(step.name) || names.includes(step.baseName)) visit(step.name);
  return {
    ...plan,
    steps: plan.steps.filter((s) => keep.has(s.name)),
    layers: plan.layers.map((layer) => layer.filter((n) => keep.has(n))).filter((layer) => layer.length > 0),
  };
}
