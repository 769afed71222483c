// A plan compiled on the server points into the server's checkout (the workspace, Dockerfile
// build contexts); on a runner the same files sit in its own folder. Pure: only those paths move.
import type { Plan, ResolvedEnvironment } from '../../../engine/plan.ts';

function moved(path: string, from: string, to: string): string {
  if (path === from) return to;
  return path.startsWith(`${from}/`) ? to + path.slice(from.length) : path;
}

function rebaseEnvironment(environment: ResolvedEnvironment, from: string, to: string): ResolvedEnvironment {
  if (!environment.build) return environment;
  return {
    ...environment,
    build: { ...environment.build, context: moved(environment.build.context, from, to) },
  };
}

export function rebasePlan(plan: Plan, from: string, to: string): Plan {
  return {
    ...plan,
    workspace: moved(plan.workspace, from, to),
    steps: plan.steps.map((step) => ({
      ...step,
      environment: rebaseEnvironment(step.environment, from, to),
      ...(step.services
        ? {
            services: step.services.map((service) => ({
              ...service,
              environment: rebaseEnvironment(service.environment, from, to),
            })),
          }
        : {}),
    })),
  };
}
