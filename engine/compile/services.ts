// A step's services, planned: each one's environment resolved the way a step's is, so the
// backends build or pull its image through the same path.
import type { Environment, PipelineFile, Service } from '../config/pipeline-file.generated.ts';
import type { PlannedService } from '../plan.ts';
import { anonymousEnvironmentName, resolveEnvironment, stringifyValues } from './environments.ts';

export function planServices(
  stepName: string,
  services: Record<string, Service>,
  substitute: (text: string) => string,
  source: { config: PipelineFile; pipelineDir: string },
): PlannedService[] {
  return Object.entries(services).map(([name, service]) => {
    const { resolvedName, environment } = serviceEnvironment(
      stepName,
      name,
      service,
      substitute,
      source.config,
    );
    const resolved = resolveEnvironment(resolvedName, environment, source.pipelineDir);
    const planned: PlannedService = {
      name,
      environment: resolved,
      userSet: environment.user !== undefined,
      env: { ...resolved.env, ...stringifyValues(service.env) },
    };
    for (const [key, value] of Object.entries(planned.env)) planned.env[key] = substitute(value);
    if (service.commands !== undefined) planned.commands = service.commands.map(substitute);
    return planned;
  });
}

function serviceEnvironment(
  stepName: string,
  name: string,
  service: Service,
  substitute: (text: string) => string,
  config: PipelineFile,
): { resolvedName: string; environment: Environment } {
  const where = `service '${name}' of step '${stepName}'`;
  if (service.environment !== undefined && service.image !== undefined) {
    throw new Error(`${where} sets both environment and image`);
  }
  if (service.environment !== undefined) {
    const environments = config.environments ?? {};
    const environment = Object.hasOwn(environments, service.environment)
      ? environments[service.environment]
      : undefined;
    if (!environment) throw new Error(`${where} uses unknown environment '${service.environment}'`);
    return { resolvedName: service.environment, environment };
  }
  if (service.image !== undefined) {
    const image = substitute(service.image);
    return { resolvedName: anonymousEnvironmentName(image), environment: { image } };
  }
  throw new Error(`${where} has neither environment nor image`);
}
