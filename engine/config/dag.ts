// The step graph: implicit ordering, cycle detection and layering. Pure; used by the linter
// (to name cycles with positions) and the compiler (to order the plan).

/** Step name -> the names it waits for. */
export type StepGraph = Map<string, string[]>;

/**
 * Applies the ordering rule of pipeline files: a step without `depends_on` waits for the step
 * above it; `depends_on: []` starts at once; otherwise the listed steps.
 */
export function stepGraph(
  steps: ReadonlyArray<readonly [string, { depends_on?: readonly string[] }]>,
): StepGraph {
  const graph: StepGraph = new Map();
  let previous: string | undefined;
  for (const [name, step] of steps) {
    graph.set(name, step.depends_on ? [...step.depends_on] : previous === undefined ? [] : [previous]);
    previous = name;
  }
  return graph;
}

/**
 * One cycle as a path that returns to its start (`a -> b -> a`), or undefined. Depth-first
 * with an explicit stack: a pipeline file of 1 MiB can chain tens of thousands of steps,
 * far deeper than the call stack goes.
 */
export function findCycle(graph: StepGraph): string[] | undefined {
  const done = new Set<string>();
  // The current path, and where each of its nodes sits on it.
  const path: { node: string; next: number }[] = [];
  const onPath = new Map<string, number>();
  for (const root of graph.keys()) {
    if (done.has(root)) continue;
    onPath.set(root, 0);
    path.push({ node: root, next: 0 });
    for (let frame = path.at(-1); frame !== undefined; frame = path.at(-1)) {
      const dep = graph.get(frame.node)?.[frame.next++];
      if (dep === undefined) {
        path.pop();
        onPath.delete(frame.node);
        done.add(frame.node);
        continue;
      }
      if (!graph.has(dep) || done.has(dep)) continue;
      const at = onPath.get(dep);
      if (at !== undefined) return [...path.slice(at).map((f) => f.node), dep];
      onPath.set(dep, path.length);
      path.push({ node: dep, next: 0 });
    }
  }
  return undefined;
}

/**
 * Groups steps into layers: each layer depends only on earlier ones. Within a layer the
 * file's order is kept. Throws on a cycle: lint rejects those first. Linear in steps and
 * edges (Kahn's algorithm), whatever order the file lists the steps in.
 */
export function topologicalLayers(graph: StepGraph): string[][] {
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const [node, deps] of graph) {
    const known = deps.filter((d) => graph.has(d));
    waitingOn.set(node, known.length);
    for (const dep of known) {
      const list = dependents.get(dep);
      if (list) list.push(node);
      else dependents.set(dep, [node]);
    }
  }
  const depth = new Map<string, number>();
  const ready = [...graph.keys()].filter((node) => waitingOn.get(node) === 0);
  for (const node of ready) depth.set(node, 0);
  // The array grows while it is walked: a step becomes ready once its last dependency is.
  for (const node of ready) {
    const below = (depth.get(node) ?? 0) + 1;
    for (const dependent of dependents.get(node) ?? []) {
      depth.set(dependent, Math.max(depth.get(dependent) ?? 0, below));
      const left = (waitingOn.get(dependent) ?? 0) - 1;
      waitingOn.set(dependent, left);
      if (left === 0) ready.push(dependent);
    }
  }
  if (ready.length < graph.size) {
    const remaining = [...graph.keys()].filter((node) => (waitingOn.get(node) ?? 0) > 0);
    throw new Error(`cycle among steps: ${remaining.join(', ')}`);
  }
  const layers: string[][] = [];
  for (const node of graph.keys()) {
    const d = depth.get(node) ?? 0;
    const layer = layers[d];
    if (layer) layer.push(node);
    else layers[d] = [node];
  }
  return layers;
}
