// Environments: a named entry of `environments:` or a step's bare `image:`, with every
// default filled in so the backends never guess.
import { resolve } from 'node:path';
import type { Environment, EnvMap1 } from '../config/pipeline-file.generated.ts';
import { parseSize } from '../config/units.ts';
import { DEFAULT_RESOURCES, DEFAULT_USER, type ResolvedEnvironment } from '../plan.ts';

/** Name under which a step's bare `image:` appears in plans and logs. */
export function anonymousEnvironmentName(image: string): string {
  return `image:${image}`;
}

/**
 * @param name the environment's name in the file, or `image:NAME`
 * @param pipelineDir absolute directory of the pipeline file; build contexts are relative to it
 */
export function resolveEnvironment(
  name: string,
  environment: Environment,
  pipelineDir: string,
): ResolvedEnvironment {
  const resolved: ResolvedEnvironment = {
    name,
    pull: environment.pull ?? 'if-not-present',
    resources: resolveResources(name, environment.resources),
    network: environment.network ?? 'none',
    runtime: environment.runtime ?? 'runc',
    user: environment.user ?? DEFAULT_USER,
    env: stringifyValues(environment.env),
  };
  if (environment.image !== undefined) resolved.image = environment.image;
  if (environment.build) {
    resolved.build = {
      context: resolve(pipelineDir, environment.build.context),
      dockerfile: environment.build.dockerfile ?? 'Dockerfile',
      args: stringifyValues(environment.build.args),
    };
  }
  if (resolved.image === undefined && resolved.build === undefined) {
    throw new Error(`environment '${name}' has neither image nor build`);
  }
  return resolved;
}

function resolveResources(
  name: string,
  resources: Environment['resources'],
): ResolvedEnvironment['resources'] {
  const size = (field: 'memory' | 'tmp', fallback: number): number => {
    const value = resources?.[field];
    if (value === undefined) return fallback;
    const parsed = parseSize(value);
    // Lint (the schema's size format) refused it already: this is a programmer error.
    if (parsed === undefined) throw new Error(`environment '${name}': bad ${field} size '${value}'`);
    return parsed;
  };
  const memoryBytes = size('memory', DEFAULT_RESOURCES.memoryBytes);
  return {
    // Docker takes whole nano-CPUs; rounding keeps 0.1 * 1e9 from becoming 100000000.00000001.
    nanoCpus: resources?.cpus === undefined ? DEFAULT_RESOURCES.nanoCpus : Math.round(resources.cpus * 1e9),
    memoryBytes,
    pids: resources?.pids ?? DEFAULT_RESOURCES.pids,
    tmpBytes: size('tmp', DEFAULT_RESOURCES.tmpBytes),
  };
}

/** YAML lets `DEBUG: true` and `PORT: 8080` through as non-strings; the process only sees text. */
export function stringifyValues(map: EnvMap1 | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(map ?? {})) result[key] = String(value);
  return result;
}
