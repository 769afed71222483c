// `extends:` applies templates to a step: each named template in order, then the step's own
// keys on top. Merge rule: where both sides hold a mapping (env, resources, when, ...), the
// keys merge one by one, recursively; any other value (a list, a string, a number) replaces
// what was there. Lists replace rather than append so a step can always say exactly what
// it runs, without knowing what a template held.
import type { Mapping } from './data.ts';
import { asMapping, has, mappingEntries } from './data.ts';
import type { Origins } from './origins.ts';
import type { PathSegment, Reporter } from './report.ts';
import { SuggestionBudget } from './suggest.ts';

/** Called for each key a layer sets: where in the result, and where it was written. */
type OnSet = (at: readonly PathSegment[], source: readonly PathSegment[]) => void;

export interface Layer {
  value: Mapping;
  /** Where the layer was written, e.g. ['templates', 'node']. */
  source: readonly PathSegment[];
}

/** Merges `layers` in order by the rule above. Pure; the layers are not changed. */
export function mergeLayers(layers: readonly Layer[], onSet: OnSet = () => {}): Record<string, unknown> {
  let merged: Record<string, unknown> = {};
  for (const layer of layers) merged = mergeInto(merged, layer.value, [], layer.source, onSet);
  return merged;
}

function mergeInto(
  base: Mapping,
  over: Mapping,
  at: readonly PathSegment[],
  source: readonly PathSegment[],
  onSet: OnSet,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const here = [...at, key];
    const there = [...source, key];
    const below = asMapping(result[key]);
    const incoming = asMapping(value);
    if (below && incoming) {
      result[key] = mergeInto(below, incoming, here, there, onSet);
    } else {
      result[key] = value;
      onSet(here, there);
    }
  }
  return result;
}

/**
 * Replaces each step that has `extends` by the merged step, in `data` (assembled, not yet
 * checked), and records where each merged key was written so findings point there.
 */
export function expandTemplates(data: Record<string, unknown>, origins: Origins, reporter: Reporter): void {
  const steps = asMapping(data.steps);
  if (!steps) return;
  const templates = asMapping(data.templates) ?? {};
  for (const [name, template] of mappingEntries(templates)) {
    if (has(template, 'extends')) {
      reporter.error(
        'GBCMS_TEMPLATE_EXTENDS',
        ['templates', name, 'extends'],
        "templates do not extend other templates; list both in the step's extends, in order",
        'key',
      );
    }
  }
  const hints = new SuggestionBudget();
  const expanded: Record<string, unknown> = { ...steps };
  for (const [name, step] of mappingEntries(steps)) {
    if (!has(step, 'extends')) continue;
    const layers: Layer[] = [];
    for (const [templateName, path] of namedTemplates(name, step.extends)) {
      const template = asMapping(templates[templateName]);
      if (!Object.hasOwn(templates, templateName)) {
        const hint = has(data, 'templates')
          ? hints.didYouMean(templateName, Object.keys(templates))
          : "; the pipeline defines no 'templates:'";
        reporter.error('GBCMS_UNKNOWN_TEMPLATE', path, `template '${templateName}' is not defined${hint}`);
      } else if (template) {
        const { extends: _chained, ...fragment } = template;
        layers.push({ value: fragment, source: ['templates', templateName] });
      }
    }
    layers.push({ value: step, source: ['steps', name] });
    const stepPath = ['steps', name];
    expanded[name] = mergeLayers(layers, (at, source) => origins.wroteAt([...stepPath, ...at], source));
  }
  data.steps = expanded;
}

/** The template names `extends` gives, each with its path; other shapes are the schema's. */
function namedTemplates(step: string, value: unknown): [string, PathSegment[]][] {
  const path = ['steps', step, 'extends'];
  if (typeof value === 'string') return [[value, path]];
  if (!Array.isArray(value)) return [];
  return value.flatMap((item, index): [string, PathSegment[]][] =>
    typeof item === 'string' ? [[item, [...path, index]]] : [],
  );
}
