// The steps' dependencies, kept beside the logs as graph.json when a run starts: the store keeps
// steps as rows without their `depends_on`, and the run page draws the DAG from this file.
// An execution without it (external, or stored before) is drawn as steps without edges.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plan } from '../../engine/plan.ts';

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

export async function writeStepGraph(runDir: string, steps: readonly GraphStep[]): Promise<void> {
  await writeFile(join(runDir, GRAPH_FILE), JSON.stringify(steps));
}

/** The stored graph, or undefined when there is none (or it cannot be read as one). */
export async function readStepGraph(runDir: string): Promise<GraphStep[] | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(join(runDir, GRAPH_FILE), 'utf8'));
    return Array.isArray(value) ? (value as GraphStep[]) : undefined;
  } catch {
    return undefined;
  }
}
