// Services: each one runs from exactly one of an image or a named environment, and a named
// environment must exist. Names and shape are the schema's job.
import { has, type Mapping, mappingEntries } from './data.ts';
import type { Reporter } from './report.ts';
import type { SuggestionBudget } from './suggest.ts';

export interface ServiceContext {
  environments: ReadonlySet<string>;
  fileHasEnvironments: boolean;
  hints: SuggestionBudget;
}

export function checkServices(
  name: string,
  step: Mapping,
  context: ServiceContext,
  reporter: Reporter,
): void {
  for (const [serviceName, service] of mappingEntries(step.services)) {
    const path = ['steps', name, 'services', serviceName];
    if (has(service, 'environment') && has(service, 'image')) {
      reporter.error(
        'GBCMS_SERVICE_IMAGE',
        [...path, 'image'],
        "has both 'environment' and 'image'; keep one",
        'key',
      );
      continue;
    }
    if (!has(service, 'environment') && !has(service, 'image')) {
      reporter.error(
        'GBCMS_SERVICE_IMAGE',
        path,
        "does not say what runs: add 'image: NAME' or 'environment: NAME'",
        'key',
      );
      continue;
    }
    const environment = service.environment;
    if (typeof environment !== 'string' || environment === '') continue;
    if (context.environments.has(environment)) continue;
    const hint = context.fileHasEnvironments
      ? context.hints.didYouMean(environment, context.environments)
      : "; the file defines no 'environments:'";
    reporter.error(
      'GBCMS_SERVICE_UNKNOWN_ENVIRONMENT',
      [...path, 'environment'],
      `environment '${environment}' is not defined${hint}`,
    );
  }
}
