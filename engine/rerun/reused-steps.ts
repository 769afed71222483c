// How a run treats the steps a re-run from the failed steps reuses (RunOptions.reuse): the
// backend prepares nothing for them (no image, no cache), the workspace it seeds holds their
// artifacts at their paths before any step starts, and each of them ends `reused` with its
// artifacts copied into the new run, without running.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactRecord, RunContext, RunInputs } from '../backends/types.ts';
import type { Plan, PlannedStep } from '../plan.ts';
import { type RestoredFile, type ReusePlan, reusedSteps } from './decide.ts';
import { copyReusedArtifacts, stageWorkspace } from './restore.ts';

export interface ReuseOptions {
  plan: ReusePlan;
  /** The original run's artifacts folder, where the reused steps' artifact files are kept. */
  artifactsDir: string;
}

/** Below the run's folder while the backend seeds its workspace; removed right after. */
const STAGING_DIR = 'restored-workspace';

export class ReusedSteps {
  readonly #from: string;
  readonly #artifactsDir: string;
  readonly #steps: Map<string, RestoredFile[]>;

  constructor(options: ReuseOptions | undefined) {
    this.#from = options?.plan.from ?? '';
    this.#artifactsDir = options?.artifactsDir ?? '';
    this.#steps = options ? reusedSteps(options.plan) : new Map();
  }

  has(step: PlannedStep): boolean {
    return this.#steps.has(step.name);
  }

  /** The plan as the backend sees it: reused steps are skipped, so it prepares nothing for them. */
  backendPlan(plan: Plan): Plan {
    if (this.#steps.size === 0) return plan;
    return {
      ...plan,
      steps: plan.steps.map((step) =>
        this.has(step) && step.skip === undefined ? { ...step, skip: `reused from run ${this.#from}` } : step,
      ),
    };
  }

  /**
   * Points `run` and `inputs` at a staged copy of the workspace with the reused artifacts in
   * place, for the backend's setupRun; the returned function removes it and points `run` back.
   */
  async stage(run: RunContext, inputs: RunInputs): Promise<() => Promise<void>> {
    if (this.#steps.size === 0) return async () => undefined;
    const staging = join(run.dir, STAGING_DIR);
    const restored = [...this.#steps.values()].flat();
    const original = run.plan;
    inputs.workspaceFiles = await stageWorkspace(
      original.workspace,
      inputs.workspaceFiles,
      this.#artifactsDir,
      restored,
      staging,
    );
    run.plan = { ...original, workspace: staging };
    return async () => {
      run.plan = original;
      await rm(staging, { recursive: true, force: true });
    };
  }

  /** The reused step's artifacts, copied into this run's artifacts folder, and what its record says. */
  async reuse(
    step: PlannedStep,
    runArtifactsDir: string,
  ): Promise<{ reason: string; artifacts: ArtifactRecord[] }> {
    const restored = this.#steps.get(step.name) ?? [];
    const artifacts = await copyReusedArtifacts(this.#artifactsDir, runArtifactsDir, restored);
    const paths = step.artifacts.map((spec) => spec.path).join(', ');
    return { reason: `reused from run ${this.#from}: its artifacts ${paths} were restored`, artifacts };
  }
}
