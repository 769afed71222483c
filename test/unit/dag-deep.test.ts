// The step graph on deep chains: tens of thousands of steps fit in a 1 MiB pipeline file, so
// cycle search and layering must not recurse per step (20,000 deep would overflow the stack)
// nor go quadratic (counted in operations on 1,250 then 20,000 steps, not timed).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { findCycle, type StepGraph, stepGraph, topologicalLayers } from '../../engine/config/dag.ts';
import { GROWTH } from '../helpers/growth.ts';
import { assertLinearWork } from '../helpers/work-meter.ts';

const STEPS = 20_000;
const name = (i: number) => `s${i}`;

/** s0 <- s1 <- ... through the implicit "wait for the step above". */
function chain(length: number): StepGraph {
  return stepGraph(Array.from({ length }, (_, i) => [name(i), {}] as const));
}

/** The depth-first search findCycle did before it went iterative: the same visiting order. */
function recursiveFindCycle(graph: StepGraph): string[] | undefined {
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

/** s(N-1) -> ... -> s0: each step waits for the one below it. */
function bottomUp(length: number): StepGraph {
  return new Map(Array.from({ length }, (_, i) => [name(i), i + 1 < length ? [name(i + 1)] : []]));
}

/** A chain whose first step waits for the last: one cycle through every step. */
function ring(length: number): StepGraph {
  const graph = chain(length);
  graph.set(name(0), [name(length - 1)]);
  return graph;
}

const SMALL = STEPS / GROWTH;

describe('step graph on 20,000 steps', () => {
  test('a chain has no cycle and one step per layer, in linear work', () => {
    const graph = chain(STEPS);
    assert.equal(findCycle(graph), undefined);
    const layers = topologicalLayers(graph);
    assert.equal(layers.length, STEPS);
    assert.deepEqual(layers[0], [name(0)]);
    assert.deepEqual(layers.at(-1), [name(STEPS - 1)]);
    assertLinearWork('findCycle on a chain', chain, findCycle, SMALL);
    assertLinearWork('topologicalLayers on a chain', chain, topologicalLayers, SMALL);
  });

  test('a chain listed bottom-up (each step waits for the one below) layers in linear work', () => {
    const graph = bottomUp(STEPS);
    assert.equal(findCycle(graph), undefined);
    const layers = topologicalLayers(graph);
    assert.equal(layers.length, STEPS);
    assert.deepEqual(layers[0], [name(STEPS - 1)]);
    assert.deepEqual(layers.at(-1), [name(0)]);
    assertLinearWork('findCycle bottom-up', bottomUp, findCycle, SMALL);
    assertLinearWork('topologicalLayers bottom-up', bottomUp, topologicalLayers, SMALL);
  });

  test('a cycle through every step is found whole, in linear work', () => {
    const graph = ring(STEPS);
    const cycle = findCycle(graph);
    assert.ok(cycle, 'cycle found');
    assert.equal(cycle.length, STEPS + 1);
    assert.equal(cycle[0], name(0));
    assert.equal(cycle.at(-1), name(0));
    assert.equal(cycle[1], name(STEPS - 1));
    assert.equal(new Set(cycle).size, STEPS);
    assert.throws(() => topologicalLayers(graph), /cycle among steps/);
    assertLinearWork('findCycle on a ring', ring, findCycle, SMALL);
  });

  test('a short cycle at the far end of a deep chain is found', () => {
    const graph = chain(STEPS);
    // s(N-2) already waits for s(N-3); make s(N-3) wait for s(N-1) as well.
    graph.set(name(STEPS - 3), [name(STEPS - 4), name(STEPS - 1)]);
    assert.deepEqual(findCycle(graph), [name(STEPS - 3), name(STEPS - 1), name(STEPS - 2), name(STEPS - 3)]);
  });
});

describe('findCycle keeps what it answered when it was recursive', () => {
  test('same cycle (or none) as the recursive search on random graphs', () => {
    const graphs = fc.integer({ min: 1, max: 12 }).chain((n) =>
      fc
        .array(fc.array(fc.integer({ min: 0, max: n + 1 }), { maxLength: 4 }), { minLength: n, maxLength: n })
        // n and n + 1 name no step: edges to unknown steps are ignored by both.
        .map((edges): StepGraph => new Map(edges.map((deps, i) => [name(i), deps.map(name)]))),
    );
    fc.assert(
      fc.property(graphs, (graph) => {
        assert.deepEqual(findCycle(graph), recursiveFindCycle(graph));
      }),
      { numRuns: 500 },
    );
  });

  test('layers match the file order within each layer', () => {
    const graph: StepGraph = new Map([
      ['d', ['b', 'c']],
      ['a', []],
      ['c', ['a']],
      ['b', []],
      ['e', ['unknown']],
    ]);
    assert.deepEqual(topologicalLayers(graph), [['a', 'b', 'e'], ['c'], ['d']]);
  });
});
