// The steps' dependencies, kept beside the logs as graph.json when a run starts: the store keeps
// steps as rows without their `depends_on`, and the run page draws the DAG from this file.
// An execution without it (external, or stored before) is drawn as steps without edges.
import type { Plan } from '../../engine/plan.ts';
import { readRunJsonArray, writeRunJson } from './run-file-json.ts';

export const GRAPH_FILE = 'graph.json';

export interface GraphStep {
  name: string;
  /** The key in the file before matrix expansion: combinations of one key are drawn together. */
  base: string;
  needs: string[];
  /** Why the step will not run, when the plan already knew it would not. */
  skip?: string;
}

export function graphOf(plan: Plan): GraphStep[] {
  return plan.steps.map((step) => ({
    name: step.name,
    base: step.baseName,
    needs: step.dependsOn,
    ...(step.skip !== undefined ? { skip: step.skip } : {}),
  }));
}

export function writeStepGraph(runDir: string, steps: readonly GraphStep[]): Promise<void> {
  return writeRunJson(runDir, GRAPH_FILE, steps);
}

/** The stored graph, or undefined when there is none (or it cannot be read as one). */
export function readStepGraph(runDir: string): Promise<GraphStep[] | undefined> {
  return readRunJsonArray<GraphStep>(runDir, GRAPH_FILE);
}
