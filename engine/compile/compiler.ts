// Pipeline file + trigger -> Plan. Pure: no I/O, no clock, no randomness, so the same file
// and trigger always give the same plan. The linter has already rejected bad files; what is
// thrown here is a state the linter should have made impossible.
import { basename, dirname, resolve } from 'node:path';
import { type GroupValues, renderGroup } from '../config/concurrency.ts';
import { findCycle, type StepGraph, stepGraph, topologicalLayers } from '../config/dag.ts';
import { matrixCombinations } from '../config/matrix.ts';
import type { PipelineFile } from '../config/pipeline-file.generated.ts';
import type { ConcurrencyGroup, FileSchedule, Plan, PlannedStep, Trigger } from '../plan.ts';
import { uniqueStepSlugs } from './slugs.ts';
import { planStepBody, type StepBody, type StepSource } from './step.ts';
import { whenSkipReason } from './when.ts';

export interface CompileOptions {
  /** Pipeline file path, relative to the workspace or absolute. */
  file: string;
  /** Absolute directory of the project. */
  workspace: string;
  trigger: Trigger;
  /** The pipeline's name when the file gives none; default: the workspace folder's name. */
  defaultName?: string;
}

export function compilePlan(config: PipelineFile, options: CompileOptions): Plan {
  const name = config.name ?? options.defaultName ?? basename(options.workspace);
  const groupValues = triggerGroupValues(options.trigger, name);
  const source: StepSource = {
    config,
    pipelineDir: resolve(options.workspace, dirname(options.file)),
    groupValues,
  };
  const entries = Object.entries(config.steps);
  const baseGraph = stepGraph(entries);

  // Every step of the file as its expansions, in file order.
  const expansions = new Map<string, StepBody[]>();
  for (const [baseName, step] of entries) {
    const combinations = step.matrix ? matrixCombinations(step.matrix) : [undefined];
    expansions.set(
      baseName,
      combinations.map((combination) => planStepBody(baseName, step, combination, source)),
    );
  }

  // A dependency on a step is a dependency on all of its expansions.
  const graph: StepGraph = new Map();
  const bodies = new Map<string, StepBody>();
  for (const [baseName, bodiesOfStep] of expansions) {
    const dependsOn = (baseGraph.get(baseName) ?? []).flatMap((dep) => {
      const depBodies = expansions.get(dep);
      if (!depBodies) throw new Error(`step '${baseName}' depends on unknown step '${dep}'`);
      return depBodies.map((b) => b.name);
    });
    for (const body of bodiesOfStep) {
      if (bodies.has(body.name)) throw new Error(`two steps are named '${body.name}'`);
      bodies.set(body.name, body);
      graph.set(body.name, dependsOn);
    }
  }
  const cycle = findCycle(graph);
  if (cycle) throw new Error(`steps depend on each other: ${cycle.join(' -> ')}`);
  const layers = topologicalLayers(graph);
  const slugs = uniqueStepSlugs(layers.flat());

  const steps: PlannedStep[] = [];
  const planned = new Map<string, PlannedStep>();
  for (const name of layers.flat()) {
    const body = bodies.get(name);
    if (!body) throw new Error(`layer names unknown step '${name}'`);
    const dependsOn = [...(graph.get(name) ?? [])];
    const step: PlannedStep = { ...body, slug: slugs.get(name)!, dependsOn };
    const skip = skipReason(config, step, options.trigger, planned);
    if (skip !== undefined) step.skip = skip;
    planned.set(name, step);
    steps.push(step);
  }

  const plan: Plan = {
    name,
    file: options.file,
    workspace: options.workspace,
    trigger: options.trigger,
    steps,
    layers,
  };
  if (config.schedules) plan.schedules = config.schedules.map(fileSchedule);
  if (config.concurrency) plan.concurrency = planGroup(config.concurrency, groupValues);
  return plan;
}

function triggerGroupValues(trigger: Trigger, pipeline: string): GroupValues {
  return {
    branch: trigger.branch ?? '',
    tag: trigger.tag ?? '',
    event: trigger.event,
    commit: trigger.commit ?? '',
    pipeline,
  };
}

function planGroup(
  concurrency: NonNullable<PipelineFile['concurrency']>,
  values: GroupValues,
): ConcurrencyGroup {
  return {
    group: renderGroup(concurrency.group, values),
    cancelInProgress: concurrency.cancel_in_progress ?? false,
  };
}

function fileSchedule(schedule: NonNullable<PipelineFile['schedules']>[number]): FileSchedule {
  const planned: FileSchedule = { name: schedule.name, cron: schedule.cron };
  if (schedule.branch !== undefined) planned.branch = schedule.branch;
  if (schedule.timezone !== undefined) planned.timezone = schedule.timezone;
  return planned;
}

/**
 * The step's own `when` first, then its dependencies: a step after a skipped one would run
 * without what that step produces. Dependencies come earlier in the order, so theirs is known.
 */
function skipReason(
  config: PipelineFile,
  step: PlannedStep,
  trigger: Trigger,
  planned: ReadonlyMap<string, PlannedStep>,
): string | undefined {
  const own = whenSkipReason(config.steps[step.baseName]?.when, trigger);
  if (own !== undefined) return own;
  const skippedDep = step.dependsOn.map((dep) => planned.get(dep)).find((dep) => dep?.skip !== undefined);
  return skippedDep ? `depends on skipped step '${skippedDep.baseName}'` : undefined;
}
