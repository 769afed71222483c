// The one builder every entry point uses (`gbcms validate`, `plan`, `run` and the server):
// read -> lint -> compile -> select, each stage only when the one before found no error, as
// Woodpecker's builder chains parse, lint and compile. Nothing after it reads the file again.
import { relative } from 'node:path';
import { compilePlan } from './compile/compiler.ts';
import { type Diagnostic, hasErrors } from './diagnostics.ts';
import { readPipeline } from './pipeline.ts';
import type { Plan, Trigger } from './plan.ts';
import { selectSteps } from './plan-select.ts';
import type { RemoteIncludeOptions } from './remote/remote-include.ts';

export interface PipelineSource {
  /** Absolute path of the pipeline file. */
  path: string;
  /** The file as messages name it. */
  display: string;
  /** Absolute project directory: build contexts and key files are found from it. */
  workspace: string;
  /**
   * The pipeline's name when the file gives none (the server's project name); default: the
   * workspace folder's name. It names caches and $GBCMS_PIPELINE, so it must stay the same
   * from one run to the next.
   */
  defaultName?: string;
  /** The cache and network rules for remote includes; default: the user's cache, online. */
  remote?: RemoteIncludeOptions;
}

export interface PlanRequest {
  /** What triggers the run; a function is asked only once the file is known to be valid. */
  trigger: Trigger | (() => Promise<Trigger>);
  /** Run only these steps (a matrix step's base name selects all its combinations) and their needs. */
  steps?: readonly string[];
}

export interface LoadedPlan {
  /** The file as messages name it. */
  file: string;
  /** Sorted by position; warnings may come with a plan, errors never do. */
  diagnostics: Diagnostic[];
  /** The compiled plan: present when a request was given and the file has no error. */
  plan?: Plan;
}

/**
 * Lints the file, and compiles it for `request` when one is given. Throws PipelineReadError
 * when the file cannot be read, UnknownStepError when `request.steps` names no step, and what
 * the trigger function throws.
 */
export async function loadPlan(source: PipelineSource, request?: PlanRequest): Promise<LoadedPlan> {
  const loaded = await readPipeline(source.path, source.display, {
    workspace: source.workspace,
    remote: source.remote,
  });
  // Sorted by position, capped, each with a line and a column (lint/report.ts).
  const { diagnostics } = loaded;
  if (!request || !loaded.config || hasErrors(diagnostics)) return { file: source.display, diagnostics };
  const trigger = typeof request.trigger === 'function' ? await request.trigger() : request.trigger;
  // Relative to the workspace, so the compiler finds build contexts beside the file.
  const file = relative(source.workspace, source.path);
  const { workspace, defaultName } = source;
  const plan = compilePlan(loaded.config, { file, workspace, trigger, defaultName });
  return { file: source.display, diagnostics, plan: selectSteps(plan, request.steps ?? []) };
}
