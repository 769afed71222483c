// Rules about meaning that a JSON Schema cannot say: references between steps and
// environments, safe paths, limits, and bad habits. They read the data defensively, so they
// also run on files the schema rejected and a user sees every problem in one pass.

import type { Mapping } from './data.ts';
import { asList, asMapping, has, mappingEntries } from './data.ts';
import type { Reporter } from './report.ts';
import { checkArtifacts } from './rules-artifacts.ts';
import { checkCaches } from './rules-cache.ts';
import { checkPipelineGroup, checkSchedules, checkStepGroup } from './rules-concurrency.ts';
import { checkDependencies } from './rules-dag.ts';
import { checkMatrixStep, matrixReferences } from './rules-matrix.ts';
import { checkServices } from './rules-services.ts';
import { SuggestionBudget } from './suggest.ts';

export const MIN_SECRET_NAME_LENGTH = 4;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkRules(data: unknown, reporter: Reporter): void {
  const root = asMapping(data);
  if (!root) return;
  const hints = new SuggestionBudget();
  const environments = mappingEntries(root.environments);
  for (const [name, environment] of environments) checkEnvironment(name, environment, reporter);
  const environmentNames = new Set(environments.map(([name]) => name));
  const fileHasEnvironments = has(root, 'environments');
  const steps = mappingEntries(root.steps);
  for (const [name, step] of steps) {
    checkWhereStepRuns(name, step, environmentNames, fileHasEnvironments, reporter, hints);
    checkSecrets(name, step, reporter);
    checkMatrixStep(name, step, { environments: environmentNames, fileHasEnvironments, hints }, reporter);
    checkArtifacts(name, step, reporter);
    checkCaches(name, step, reporter);
    checkServices(name, step, { environments: environmentNames, fileHasEnvironments, hints }, reporter);
    checkStepGroup(name, step, reporter, hints);
  }
  checkDependencies(steps, reporter, hints);
  checkPipelineGroup(root, reporter, hints);
  checkSchedules(root, reporter);
}

function checkEnvironment(name: string, environment: Mapping, reporter: Reporter): void {
  const path = ['environments', name];
  if (has(environment, 'image') && has(environment, 'build')) {
    reporter.error(
      'GBCMS_ENV_IMAGE_AND_BUILD',
      [...path, 'build'],
      "has both 'image' and 'build': an environment either uses an image or builds one, keep one",
      'key',
    );
  } else if (!has(environment, 'image') && !has(environment, 'build')) {
    reporter.error('GBCMS_ENV_NO_IMAGE', path, "needs 'image: NAME' or 'build: {context: DIR}'", 'key');
  }
  const user = environment.user;
  if (typeof user === 'string') {
    const [account = ''] = user.split(':');
    if (account === 'root' || /^0+$/.test(account)) {
      reporter.warning(
        'GBCMS_BAD_HABIT_ROOT_USER',
        [...path, 'user'],
        `'${user}' runs steps as root in the container; gbcms runs them as 1000:1000 by default, so drop 'user' unless the image really needs root`,
      );
    }
  }
}

function checkWhereStepRuns(
  name: string,
  step: Mapping,
  environments: ReadonlySet<string>,
  fileHasEnvironments: boolean,
  reporter: Reporter,
  hints: SuggestionBudget,
): void {
  const path = ['steps', name];
  if (has(step, 'environment') && has(step, 'image')) {
    reporter.error(
      'GBCMS_STEP_ENVIRONMENT_AND_IMAGE',
      [...path, 'image'],
      "has both 'environment' and 'image'; keep one (put the image in the environment, or drop the environment)",
      'key',
    );
  } else if (!has(step, 'environment') && !has(step, 'image')) {
    reporter.error(
      'GBCMS_STEP_NO_ENVIRONMENT',
      path,
      "does not say where it runs: add 'image: NAME' or 'environment: NAME'",
      'key',
    );
  }
  const environment = step.environment;
  // A templated name is checked per matrix combination, in rules-matrix.ts.
  if (typeof environment !== 'string' || matrixReferences(environment).length > 0) return;
  if (environment !== '' && !environments.has(environment)) {
    const hint = fileHasEnvironments
      ? hints.didYouMean(environment, environments)
      : "; the file defines no 'environments:'";
    reporter.error(
      'GBCMS_UNKNOWN_ENVIRONMENT',
      [...path, 'environment'],
      `environment '${environment}' is not defined${hint}`,
    );
  }
}

function checkSecrets(name: string, step: Mapping, reporter: Reporter): void {
  for (const [index, secret] of asList(step.secrets).entries()) {
    // Names the schema rejects are reported there; a second message would be noise.
    if (typeof secret !== 'string' || !ENV_NAME.test(secret) || secret.length >= MIN_SECRET_NAME_LENGTH)
      continue;
    reporter.error(
      'GBCMS_SECRET_NAME_TOO_SHORT',
      ['steps', name, 'secrets', index],
      `'${secret}' is too short to be a real secret name (use a descriptive name, e.g. NPM_TOKEN)`,
    );
  }
}
