import type { PlannedStep } from '../plan.ts';
import type { RunContext } from './types.ts';

/**
 * The environment a step's process sees, the same on every backend. Later sources win:
 * the environment's env, the step's env (which already holds the pipeline env and matrix),
 * the run's variables, then the secrets the step asked for.
 */
export function stepEnvironment(step: PlannedStep, run: RunContext): Record<string, string> {
  const env: Record<string, string> = {
    ...step.environment.env,
    ...step.env,
    ...run.env,
    GBCMS_STEP: step.name,
  };
  for (const name of step.secrets) {
    const value = run.secrets[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
