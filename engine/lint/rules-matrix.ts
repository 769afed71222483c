// biome-ignore-all lint/suspicious/noTemplateCurlyInString: messages quote the ${{ matrix.AXIS }} syntax
// Matrix steps, checked with the compiler's own expansion (engine/config/matrix.ts) so what
// passes here compiles: every combination gets its own step name, `${{ matrix.AXIS }}` names
// an axis the step has, and the environment and image each combination fills in exist and
// are valid.

import type { Combination } from '../config/matrix.ts';
import { MATRIX_REFERENCE, matrixCombinations, matrixStepName, substituteMatrix } from '../config/matrix.ts';
import type { Mapping } from './data.ts';
import { asList, asMapping, has } from './data.ts';
import type { PathSegment, Reporter } from './report.ts';
import { resolveSchema, showValue } from './schema-tree.ts';
import type { SuggestionBudget } from './suggest.ts';

export const MAX_MATRIX_COMBINATIONS = 256;
/** How many failing combinations one message lists before it says "and N more". */
const LISTED = 5;

/** The axes `${{ matrix.AXIS }}` references in a text name, in order, each once. */
export function matrixReferences(text: string): string[] {
  return [...new Set(Array.from(text.matchAll(MATRIX_REFERENCE), (match) => match[1] ?? ''))];
}

type Value = string | number | boolean;
type Axes = [string, [Value, ...Value[]]][];

export interface StepContext {
  environments: ReadonlySet<string>;
  fileHasEnvironments: boolean;
  hints: SuggestionBudget;
}

export function checkMatrixStep(name: string, step: Mapping, context: StepContext, reporter: Reporter): void {
  const path = ['steps', name];
  if (!has(step, 'matrix')) {
    for (const [field, text] of templatedTexts(step)) {
      const refs = matrixReferences(text);
      if (refs.length === 0) continue;
      const shown = refs.map((axis) => `\${{ matrix.${axis} }}`).join(', ');
      reporter.error(
        'GBCMS_MATRIX_REF_NO_MATRIX',
        [...path, ...field],
        `uses ${shown} but the step has no 'matrix:'; add one, or write the value out`,
      );
    }
    return;
  }
  // A matrix the schema rejects as a whole (not a mapping, no axes) is reported there.
  const matrix = asMapping(step.matrix);
  if (!matrix || Object.keys(matrix).length === 0) return;
  checkReferences(path, step, Object.keys(matrix), context, reporter);
  if (reportTooLarge(path, matrix, reporter)) return;
  const axes = wellFormedAxes(matrix);
  if (!axes) return;
  // Values of one axis with the same text are reported on the value itself, not again as names.
  if (!reportSameText(path, axes, reporter) && namesCanClash(axes)) {
    reportNameClash(name, path, matrixCombinations(Object.fromEntries(axes)), reporter);
  }
  const environment = step.environment;
  if (typeof environment === 'string' && matrixReferences(environment).length > 0) {
    checkEnvironmentNames(path, environment, axes, context, reporter);
  }
  const image = step.image;
  if (typeof image === 'string' && matrixReferences(image).length > 0) {
    checkImages(path, image, axes, reporter);
  }
}

/** Every text of a step the compiler substitutes in, with its path under the step. */
function templatedTexts(step: Mapping): [PathSegment[], string][] {
  const texts: [PathSegment[], string][] = [];
  for (const field of ['image', 'environment'] as const) {
    const value = step[field];
    if (typeof value === 'string') texts.push([[field], value]);
  }
  for (const [index, command] of asList(step.commands).entries()) {
    if (typeof command === 'string') texts.push([['commands', index], command]);
  }
  for (const [key, value] of Object.entries(asMapping(step.env) ?? {})) {
    if (typeof value === 'string') texts.push([['env', key], value]);
  }
  return texts;
}

function checkReferences(
  path: readonly PathSegment[],
  step: Mapping,
  axes: readonly string[],
  context: StepContext,
  reporter: Reporter,
): void {
  const known = new Set(axes);
  for (const [field, text] of templatedTexts(step)) {
    for (const axis of matrixReferences(text)) {
      if (known.has(axis)) continue;
      reporter.warning(
        'GBCMS_MATRIX_REF_UNKNOWN_AXIS',
        [...path, ...field],
        `\${{ matrix.${axis} }} names no axis of this step's matrix (${axes.join(', ')}) and is left as written${context.hints.didYouMean(axis, known)}`,
      );
    }
  }
}

function reportTooLarge(path: readonly PathSegment[], matrix: Mapping, reporter: Reporter): boolean {
  const axes = Object.entries(matrix).filter((entry): entry is [string, unknown[]] =>
    Array.isArray(entry[1]),
  );
  const combinations = axes.reduce((product, [, values]) => product * values.length, 1);
  if (axes.length === 0 || combinations <= MAX_MATRIX_COMBINATIONS) return false;
  const factors = axes.map(([axis, values]) => `${axis}: ${values.length}`).join(' x ');
  reporter.error(
    'GBCMS_MATRIX_TOO_LARGE',
    [...path, 'matrix'],
    `expands to ${combinations} combinations (${factors}); at most ${MAX_MATRIX_COMBINATIONS} are allowed`,
    'key',
  );
  return true;
}

/** The axes when every one is a non-empty list of plain values; otherwise the schema speaks. */
function wellFormedAxes(matrix: Mapping): Axes | undefined {
  const axes: Axes = [];
  for (const [axis, values] of Object.entries(matrix)) {
    if (!Array.isArray(values)) return undefined;
    const plain = values.filter(
      (value): value is Value =>
        typeof value === 'string' ||
        typeof value === 'boolean' ||
        (typeof value === 'number' && Number.isFinite(value)),
    );
    const [first, ...rest] = plain;
    if (first === undefined || plain.length !== values.length) return undefined;
    axes.push([axis, [first, ...rest]]);
  }
  return axes.length > 0 ? axes : undefined;
}

/**
 * Step names and `${{ matrix.AXIS }}` use a value's text: `1` and `'1'` would make two
 * steps with one name. Values that are equal outright are the schema's uniqueItems finding.
 * Whether any axis repeats a text, either way.
 */
function reportSameText(path: readonly PathSegment[], axes: Axes, reporter: Reporter): boolean {
  let found = false;
  for (const [axis, values] of axes) {
    const first = new Map<string, number>();
    for (const [index, value] of values.entries()) {
      const text = String(value);
      const earlier = first.get(text);
      if (earlier === undefined) {
        first.set(text, index);
        continue;
      }
      found = true;
      const other = values[earlier];
      if (other === value) continue;
      reporter.error(
        'GBCMS_MATRIX_DUPLICATE_VALUE',
        [...path, 'matrix', axis, index],
        `${showValue(value)} and item ${earlier} (${showValue(other)}) both read as '${text}': two steps would be named with ${axis}=${text}; keep one`,
      );
    }
  }
  return found;
}

/**
 * `name (a=1, b=2)` splits back into its values at ', ' unless a value holds one itself:
 * only then can two different combinations print the same name.
 */
function namesCanClash(axes: Axes): boolean {
  return axes.some(([, values]) => values.some((value) => String(value).includes(', ')));
}

/** Values holding `, AXIS=` can make two different combinations print the same name. */
function reportNameClash(
  name: string,
  path: readonly PathSegment[],
  expansion: readonly Combination[],
  reporter: Reporter,
): void {
  const seen = new Map<string, Combination>();
  for (const combination of expansion) {
    const stepName = matrixStepName(name, combination);
    const earlier = seen.get(stepName);
    if (!earlier) {
      seen.set(stepName, combination);
      continue;
    }
    reporter.error(
      'GBCMS_MATRIX_NAME_CLASH',
      [...path, 'matrix'],
      `combinations {${quoted(earlier)}} and {${quoted(combination)}} would both be named '${stepName}'; change a value so the names differ`,
      'key',
    );
    return;
  }
}

function checkEnvironmentNames(
  path: readonly PathSegment[],
  template: string,
  axes: Axes,
  context: StepContext,
  reporter: Reporter,
): void {
  const failures = distinctFailures(template, axes, (environment) =>
    context.environments.has(environment) ? undefined : 'not defined',
  );
  if (failures.length === 0) return;
  let hint = context.fileHasEnvironments ? '' : "; the file defines no 'environments:'";
  if (failures.length === 1 && context.fileHasEnvironments) {
    hint = context.hints.didYouMean(failures[0]?.text ?? '', context.environments);
  }
  reporter.error(
    'GBCMS_UNKNOWN_ENVIRONMENT',
    [...path, 'environment'],
    `environment '${template}' names ${listFailures(failures, (f) => `'${f.text}' for ${f.where}`)}, which ${failures.length === 1 ? 'is' : 'are'} not defined${hint}`,
  );
}

function checkImages(path: readonly PathSegment[], template: string, axes: Axes, reporter: Reporter): void {
  const failures = distinctFailures(template, axes, imageProblem);
  if (failures.length === 0) return;
  reporter.error(
    'GBCMS_MATRIX_IMAGE',
    [...path, 'image'],
    `gives ${listFailures(failures, (f) => `${showValue(f.text)} for ${f.where} (${f.problem})`)}: not a valid image reference`,
  );
}

interface Failure {
  /** The text after substitution. */
  text: string;
  /** The referenced axes' values that give it: `node=16, os=a`. */
  where: string;
  problem: string;
}

/**
 * Each distinct substituted text that fails `check`, with the first combination giving it.
 * Only the axes the template references can change the text, so only they are expanded.
 */
function distinctFailures(
  template: string,
  axes: Axes,
  check: (text: string) => string | undefined,
): Failure[] {
  const referenced = new Set(matrixReferences(template));
  const failures = new Map<string, Failure>();
  for (const combination of matrixCombinations(
    Object.fromEntries(axes.filter(([axis]) => referenced.has(axis))),
  )) {
    const text = substituteMatrix(template, combination);
    if (failures.has(text)) continue;
    const problem = check(text);
    if (problem === undefined) continue;
    const parts = Object.entries(combination).map(([axis, value]) => `${axis}=${showAxisValue(value)}`);
    failures.set(text, { text, where: parts.length > 0 ? parts.join(', ') : 'every combination', problem });
  }
  return [...failures.values()];
}

function listFailures(failures: readonly Failure[], show: (failure: Failure) => string): string {
  const listed = failures.slice(0, LISTED).map(show).join(', ');
  const more = failures.length - LISTED;
  return more > 0 ? `${listed} and ${more} more` : listed;
}

/** As in step names, quoted only where that name would be unclear. */
function showAxisValue(value: string): string {
  return value === '' || /[\s,=']/.test(value) ? showValue(value) : value;
}

function quoted(combination: Combination): string {
  return Object.entries(combination)
    .map(([axis, value]) => `${axis}: ${showValue(value)}`)
    .join(', ');
}

// The schema's plain image rule (no templates) is what a filled-in image must meet.
const { IMAGE_PATTERN, IMAGE_MAX_LENGTH } = plainImageRule();

function plainImageRule(): { IMAGE_PATTERN: RegExp; IMAGE_MAX_LENGTH: number } {
  const image = resolveSchema({ $ref: '#/$defs/image' });
  if (typeof image?.pattern !== 'string' || typeof image.maxLength !== 'number') {
    throw new Error('schemas/pipeline.schema.json: $defs/image lost its pattern or maxLength');
  }
  return { IMAGE_PATTERN: new RegExp(image.pattern, 'u'), IMAGE_MAX_LENGTH: image.maxLength };
}

/** Why a substituted image is not a valid reference, or undefined when it is. */
export function imageProblem(image: string): string | undefined {
  if (image === '') return 'empty';
  if (image.length > IMAGE_MAX_LENGTH) return `longer than ${IMAGE_MAX_LENGTH} characters`;
  if (!IMAGE_PATTERN.test(image)) return 'it contains whitespace';
  return undefined;
}
