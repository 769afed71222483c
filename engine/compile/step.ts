// One step of the file, for one matrix combination (or none), turned into its planned form.
// Dependencies and skipping are decided by the compiler, which sees every step.
import { type GroupValues, renderGroup } from '../config/concurrency.ts';
import { type Combination, matrixEnv, matrixStepName, substituteMatrix } from '../config/matrix.ts';
import type { PipelineFile, Step } from '../config/pipeline-file.generated.ts';
import { parseDuration } from '../config/units.ts';
import {
  type ApprovalGate,
  DEFAULT_TIMEOUT_MS,
  type PlannedStep,
  type ResolvedEnvironment,
} from '../plan.ts';
import { normaliseArtifact } from './artifacts.ts';
import { planCache } from './cache.ts';
import { anonymousEnvironmentName, resolveEnvironment, stringifyValues } from './environments.ts';
import { planServices } from './services.ts';

export type StepBody = Omit<PlannedStep, 'dependsOn' | 'skip' | 'slug'>;

export interface StepSource {
  config: PipelineFile;
  /** Absolute directory of the pipeline file. */
  pipelineDir: string;
  /** What a concurrency group's variables are for this trigger. */
  groupValues: GroupValues;
}

/**
 * @param combination the matrix combination, or undefined for a step without a matrix
 */
export function planStepBody(
  baseName: string,
  step: Step,
  combination: Combination | undefined,
  source: StepSource,
): StepBody {
  const substitute = (text: string) => (combination ? substituteMatrix(text, combination) : text);
  const env: Record<string, string> = {
    ...stringifyValues(source.config.env),
    ...stringifyValues(step.env),
    ...(combination ? matrixEnv(combination) : {}),
  };
  for (const [key, value] of Object.entries(env)) env[key] = substitute(value);
  const body: StepBody = {
    name: combination ? matrixStepName(baseName, combination) : baseName,
    baseName,
    environment: stepEnvironment(baseName, step, substitute, source),
    commands: step.commands.map(substitute),
    env,
    timeoutMs: stepTimeout(baseName, step.timeout),
    retries: step.retries ?? 0,
    allowFailure: step.allow_failure ?? false,
    artifacts: (step.artifacts ?? []).map(normaliseArtifact),
    reports: step.reports?.junit === undefined ? {} : { junit: step.reports.junit },
    secrets: [...(step.secrets ?? [])],
  };
  if (combination) body.matrix = { ...combination };
  const runsOn = stepLabels(step, substitute, source);
  if (runsOn.length > 0) body.runsOn = runsOn;
  if (step.approval !== undefined) body.approval = planApproval(baseName, step.approval);
  if (step.concurrency !== undefined) {
    body.concurrency = {
      group: renderGroup(step.concurrency.group, source.groupValues, combination),
      cancelInProgress: step.concurrency.cancel_in_progress ?? false,
    };
  }
  if (step.cache !== undefined && step.cache.length > 0) body.cache = step.cache.map(planCache);
  if (step.services !== undefined && Object.keys(step.services).length > 0) {
    body.services = planServices(baseName, step.services, substitute, source);
  }
  return body;
}

function stepEnvironment(
  baseName: string,
  step: Step,
  substitute: (text: string) => string,
  source: StepSource,
): ResolvedEnvironment {
  if (step.environment !== undefined && step.image !== undefined) {
    throw new Error(`step '${baseName}' sets both environment and image`);
  }
  if (step.environment !== undefined) {
    const name = substitute(step.environment);
    const environments = source.config.environments ?? {};
    const environment = Object.hasOwn(environments, name) ? environments[name] : undefined;
    if (!environment) throw new Error(`step '${baseName}' uses unknown environment '${name}'`);
    return resolveEnvironment(name, environment, source.pipelineDir);
  }
  if (step.image !== undefined) {
    const image = substitute(step.image);
    return resolveEnvironment(anonymousEnvironmentName(image), { image }, source.pipelineDir);
  }
  throw new Error(`step '${baseName}' has neither environment nor image`);
}

/** The step's own runs_on and its named environment's, sorted, each once. */
function stepLabels(step: Step, substitute: (text: string) => string, source: StepSource): string[] {
  const environments = source.config.environments ?? {};
  const name = step.environment === undefined ? undefined : substitute(step.environment);
  const environment =
    name !== undefined && Object.hasOwn(environments, name) ? environments[name] : undefined;
  return [...new Set([...(step.runs_on ?? []), ...(environment?.runs_on ?? [])])].sort();
}

function stepTimeout(baseName: string, timeout: string | undefined): number {
  if (timeout === undefined) return DEFAULT_TIMEOUT_MS;
  const ms = parseDuration(timeout);
  if (ms === undefined) throw new Error(`step '${baseName}': bad timeout '${timeout}'`);
  return ms;
}

function planApproval(baseName: string, approval: NonNullable<Step['approval']>): ApprovalGate {
  const gate: ApprovalGate = { approvers: [...(approval.approvers ?? [])] };
  if (approval.message !== undefined) gate.message = approval.message;
  if (approval.timeout !== undefined) {
    const ms = parseDuration(approval.timeout);
    if (ms === undefined) throw new Error(`step '${baseName}': bad approval timeout '${approval.timeout}'`);
    gate.timeoutMs = ms;
  }
  return gate;
}
