// The steps' DAG as plain SVG, laid out on the server: a column per depth (the longest chain of
// depends_on before a step), a box per step key with its matrix combinations inside, an edge
// per dependency between keys. Each step is a link that selects its log; the browser changes
// its data-status (and so its colour) as the run goes on.
import type { GraphStep } from '../executions/step-graph.ts';
import { html, type SafeHtml } from './html.ts';

const COLUMN = 200;
const BOX = 168;
const ROW = 24;
const HEAD = 22;
const GAP = 18;
const PAD = 8;

interface Group {
  base: string;
  steps: GraphStep[];
  depth: number;
  x: number;
  y: number;
  height: number;
}

/** Depth of every key: 0 for keys that need nothing, else one more than the deepest they need. */
export function depths(steps: readonly GraphStep[]): Map<string, number> {
  const byName = new Map(steps.map((step) => [step.name, step]));
  const depth = new Map<string, number>();
  const visit = (step: GraphStep, seen: Set<string>): number => {
    const known = depth.get(step.name);
    if (known !== undefined) return known;
    // A cycle never reaches a run (the linter refuses it); this only keeps a bad file finite.
    if (seen.has(step.name)) return 0;
    seen.add(step.name);
    let own = 0;
    for (const need of step.needs) {
      const other = byName.get(need);
      if (other) own = Math.max(own, visit(other, seen) + 1);
    }
    depth.set(step.name, own);
    return own;
  };
  for (const step of steps) visit(step, new Set());
  return depth;
}

function layout(steps: readonly GraphStep[]): { groups: Group[]; width: number; height: number } {
  const depth = depths(steps);
  const groups = new Map<string, Group>();
  for (const step of steps) {
    const group = groups.get(step.base) ?? { base: step.base, steps: [], depth: 0, x: 0, y: 0, height: 0 };
    group.steps.push(step);
    group.depth = Math.max(group.depth, depth.get(step.name) ?? 0);
    groups.set(step.base, group);
  }
  const columns: number[] = [];
  for (const group of groups.values()) {
    group.height =
      group.steps.length > 1 || group.steps[0]?.name !== group.base
        ? HEAD + group.steps.length * ROW
        : ROW + 4;
    group.x = PAD + group.depth * COLUMN;
    group.y = PAD + (columns[group.depth] ?? 0);
    columns[group.depth] = (columns[group.depth] ?? 0) + group.height + GAP;
  }
  const width = PAD * 2 + (columns.length - 1) * COLUMN + BOX;
  const height = PAD * 2 + Math.max(0, ...columns) - GAP;
  return { groups: [...groups.values()], width, height };
}

export function stepGraph(steps: readonly GraphStep[], statuses: ReadonlyMap<string, string>): SafeHtml | '' {
  if (steps.length < 2) return '';
  const { groups, width, height } = layout(steps);
  const groupOf = new Map(groups.flatMap((group) => group.steps.map((step) => [step.name, group] as const)));
  const edges = new Set<string>();
  const paths: SafeHtml[] = [];
  for (const group of groups) {
    for (const step of group.steps) {
      for (const need of step.needs) {
        const from = groupOf.get(need);
        const key = `${from?.base}\u0000${group.base}`;
        if (!from || from === group || edges.has(key)) continue;
        edges.add(key);
        const x1 = from.x + BOX;
        const y1 = from.y + from.height / 2;
        const x2 = group.x;
        const y2 = group.y + group.height / 2;
        const bend = (x2 - x1) / 2;
        paths.push(
          html`<path class="graph-edge" d="M${x1} ${y1} C${x1 + bend} ${y1} ${x2 - bend} ${y2} ${x2} ${y2}"/>`,
        );
      }
    }
  }
  return html`<figure class="step-graph" id="step-graph">
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="group" aria-label="Steps and what they depend on">
${paths}
${groups.map((group) => groupBox(group, statuses))}
</svg>
</figure>`;
}

function groupBox(group: Group, statuses: ReadonlyMap<string, string>): SafeHtml {
  const single = group.steps.length === 1 && group.steps[0]?.name === group.base;
  const top = single ? group.y + 2 : group.y + HEAD;
  return html`<g class="graph-group" data-base="${group.base}">
<rect class="graph-box" x="${group.x}" y="${group.y}" width="${BOX}" height="${group.height}" rx="6"/>
${single ? '' : html`<text class="graph-title" x="${group.x + 8}" y="${group.y + 15}">${group.base}</text>`}
${group.steps.map((step, i) => {
  const y = top + i * ROW;
  const label = single ? step.name : step.name.slice(step.base.length).trim() || step.name;
  return html`<a class="graph-step" href="#${encodeURIComponent(step.name)}" data-step="${step.name}" data-status="${statuses.get(step.name) ?? 'pending'}" aria-label="${step.name}: ${statuses.get(step.name) ?? 'pending'}">
<rect x="${group.x + 4}" y="${y}" width="${BOX - 8}" height="${ROW - 4}" rx="4"/>
<circle cx="${group.x + 15}" cy="${y + (ROW - 4) / 2}" r="5"/>
<text x="${group.x + 26}" y="${y + 15}">${truncate(label, 22)}</text>
</a>`;
})}
</g>`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
