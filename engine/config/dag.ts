// The step graph: implicit ordering, cycle detection and layering. Pure; used by the linter
// (to name cycles with positions) and the compiler (to order the plan).

/** Step name -> the names it waits for. */
export type StepGraph = Map<string, string[]>;

/**
 * Applies the ordering rule of pipeline files: a step without `depends_on` waits for the step
 * above it; `depends_on: []` starts at once; otherwise the listed steps.
 */
export function stepGraph(steps: ReadonlyArray<readonly [string, { depends_on?: readonly string[] }]>): StepGraph {
  const graph: StepGraph = new Map();
  let previous: string | undefined;
  for (const [name, step] of steps) {
    graph.set(name, step.depends_on ? [...step.depends_on] : previous === undefined ? [] : [previous]);
    previous = name;
  }
  return graph;
}

/** One cycle as a path that returns to its start (`a -> b -> a`), or undefined. */
export function findCycle(graph: StepGraph): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (!graph.has(dep)) continue;
      const seen = state.get(dep);
      if (seen === 'visiting') return [...stack.slice(stack.indexOf(dep)), dep];
      if (seen === undefined) {
        const cycle = visit(dep);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    if (state.get(node) === undefined) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
  }
  return undefined;
}

/**
 * Groups steps into layers: each layer depends only on earlier ones. Within a layer the
 * file's order is kept. Throws on a cycle: lint rejects those first.
 */
export function topologicalLayers(graph: StepGraph): string[][] {
  const depth = new Map<string, number>();
  const order = [...graph.keys()];
  let remaining = order.filter((n) => !depth.has(n));
  while (remaining.length > 0) {
    let progressed = false;
    for (const node of remaining) {
      const deps = (graph.get(node) ?? []).filter((d) => graph.has(d));
      if (deps.every((d) => depth.has(d))) {
        depth.set(node, deps.reduce((max, d) => Math.max(max, (depth.get(d) ?? 0) + 1), 0));
        progressed = true;
      }
    }
    if (!progressed) throw new Error(`cycle among steps: ${remaining.join(', ')}`);
    remaining = remaining.filter((n) => !depth.has(n));
  }
  const layers: string[][] = [];
  for (const node of order) {
    const d = depth.get(node) ?? 0;
    (layers[d] ??= []).push(node);
  }
  return layers;
}
