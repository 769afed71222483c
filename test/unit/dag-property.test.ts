// Properties of the step graph for random pipelines: orders are topological, layers are
// sound, and cycles are found whenever they exist (checked against plain reachability).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compilePlan } from '../../engine/compile/compiler.ts';
import { findCycle, type StepGraph, stepGraph } from '../../engine/config/dag.ts';
import type { PipelineFile, Step } from '../../engine/config/pipeline-file.generated.ts';
import type { Plan } from '../../engine/plan.ts';

interface StepShape {
  /** Indices of the steps waited for; undefined means "the step above". */
  deps: number[] | undefined;
  /** Number of matrix values (0 = no matrix). */
  matrix: number;
}

const name = (i: number) => `s${i}`;

function pipeline(shapes: readonly StepShape[]): PipelineFile {
  const steps: Record<string, Step> = {};
  shapes.forEach((shape, i) => {
    const step: Step = { image: 'busybox:stable', commands: ['true'] };
    if (shape.deps) step.depends_on = shape.deps.map(name);
    if (shape.matrix > 0) step.matrix = { v: [1, 2, 3].slice(0, shape.matrix) as [number, ...number[]] };
    steps[name(i)] = step;
  });
  return { version: 1, steps };
}

function compile(shapes: readonly StepShape[]): Plan {
  return compilePlan(pipeline(shapes), { file: '.gbcms.yml', workspace: '/w', trigger: { event: 'manual' } });
}

function baseGraph(shapes: readonly StepShape[]): StepGraph {
  return stepGraph(Object.entries(pipeline(shapes).steps));
}

/** Independent of findCycle: a graph is cyclic iff some node reaches itself. */
function hasCycleByReachability(graph: StepGraph): boolean {
  for (const start of graph.keys()) {
    const seen = new Set<string>();
    const queue = [...(graph.get(start) ?? [])];
    while (queue.length > 0) {
      const node = queue.pop() as string;
      if (node === start) return true;
      if (seen.has(node)) continue;
      seen.add(node);
      queue.push(...(graph.get(node) ?? []));
    }
  }
  return false;
}

function assertRealCycle(graph: StepGraph, cycle: string[]): void {
  assert.ok(cycle.length >= 2, `cycle too short: ${cycle.join(' -> ')}`);
  assert.equal(cycle[0], cycle.at(-1), 'a cycle returns to its start');
  assert.equal(new Set(cycle.slice(0, -1)).size, cycle.length - 1, 'a cycle visits each node once');
  for (let i = 0; i + 1 < cycle.length; i++) {
    const from = cycle[i] as string;
    const to = cycle[i + 1] as string;
    assert.ok(graph.get(from)?.includes(to), `${from} -> ${to} is not an edge`);
  }
}

function assertSoundPlan(plan: Plan, shapes: readonly StepShape[]): void {
  const names = plan.steps.map((s) => s.name);
  assert.equal(new Set(names).size, names.length, 'step names are unique');
  assert.equal(
    names.length,
    shapes.reduce((sum, s) => sum + Math.max(1, s.matrix), 0),
    'one step per expansion',
  );

  const position = new Map(names.map((n, i) => [n, i]));
  for (const step of plan.steps) {
    for (const dep of step.dependsOn) {
      assert.ok(
        (position.get(dep) ?? Infinity) < (position.get(step.name) ?? -1),
        `${dep} before ${step.name}`,
      );
    }
  }

  assert.deepEqual(plan.layers.flat().sort(), [...names].sort(), 'layers partition the steps');
  assert.deepEqual(plan.layers.flat(), names, 'steps are listed layer by layer');
  const layerOf = new Map(plan.layers.flatMap((layer, i) => layer.map((n) => [n, i] as const)));
  for (const step of plan.steps) {
    for (const dep of step.dependsOn) {
      assert.ok(
        (layerOf.get(dep) ?? Infinity) < (layerOf.get(step.name) ?? -1),
        'a layer depends only on earlier ones',
      );
    }
  }
  assert.ok(
    plan.layers.every((layer) => layer.length > 0),
    'no empty layers',
  );

  // A dependency on a step is a dependency on all of its expansions.
  const graph = baseGraph(shapes);
  for (const step of plan.steps) {
    const expected = (graph.get(step.baseName) ?? []).flatMap((dep) =>
      plan.steps.filter((s) => s.baseName === dep).map((s) => s.name),
    );
    assert.deepEqual([...step.dependsOn].sort(), expected.sort());
  }
}

/** Any step list: dependencies anywhere, including itself and steps further down. */
const anyShapes: fc.Arbitrary<StepShape[]> = fc.integer({ min: 1, max: 9 }).chain((n) => {
  const indices = Array.from({ length: n }, (_, i) => i);
  const shape = fc.record({
    deps: fc.oneof(
      fc.constant(undefined),
      fc.constant<number[]>([]),
      fc.subarray(indices, { maxLength: Math.min(3, n) }),
    ),
    matrix: fc.integer({ min: 0, max: 3 }),
  });
  return fc.array(shape, { minLength: n, maxLength: n });
});

/**
 * Acyclic by construction: a hidden rank order, dependencies only on lower ranks; the file
 * order is a shuffle of it, and "the step above" is used only where it has a lower rank.
 */
const acyclicShapes: fc.Arbitrary<StepShape[]> = fc
  .integer({ min: 1, max: 9 })
  .chain((n) => {
    const indices = Array.from({ length: n }, (_, i) => i);
    return fc.tuple(
      fc.shuffledSubarray(indices, { minLength: n, maxLength: n }),
      fc.array(
        fc.record({
          lower: fc.subarray(indices, { maxLength: Math.min(3, n) }),
          implicit: fc.boolean(),
          matrix: fc.integer({ min: 0, max: 3 }),
        }),
        { minLength: n, maxLength: n },
      ),
    );
  })
  .map(([rank, picks]) =>
    picks.map((pick, i): StepShape => {
      const myRank = rank[i] as number;
      const abovePrecedes = i > 0 && (rank[i - 1] as number) < myRank;
      if (pick.implicit && (i === 0 || abovePrecedes)) return { deps: undefined, matrix: pick.matrix };
      return { deps: pick.lower.filter((j) => (rank[j] as number) < myRank), matrix: pick.matrix };
    }),
  );

/** A DAG with a cycle planted through some of its steps. */
const cyclicShapes: fc.Arbitrary<StepShape[]> = acyclicShapes.chain((shapes) =>
  fc
    .shuffledSubarray(
      shapes.map((_, i) => i),
      { minLength: 1, maxLength: shapes.length },
    )
    .map((ring) => {
      const planted = shapes.map((s, i) => ({
        ...s,
        deps: [...(baseGraph(shapes).get(name(i)) ?? [])].map((d) => Number(d.slice(1))),
      }));
      ring.forEach((from, k) => {
        const to = ring[(k + 1) % ring.length] as number;
        const step = planted[from] as StepShape;
        if (!step.deps?.includes(to)) step.deps = [...(step.deps ?? []), to];
      });
      return planted;
    }),
);

const runs = { numRuns: 300 };

describe('step graph properties', () => {
  test('acyclic pipelines compile to a topological order with sound layers', () => {
    fc.assert(
      fc.property(acyclicShapes, (shapes) => {
        assert.equal(hasCycleByReachability(baseGraph(shapes)), false);
        assert.equal(findCycle(baseGraph(shapes)), undefined);
        assertSoundPlan(compile(shapes), shapes);
      }),
      runs,
    );
  });

  test('any pipeline: findCycle agrees with reachability, and compiles exactly when acyclic', () => {
    fc.assert(
      fc.property(anyShapes, (shapes) => {
        const graph = baseGraph(shapes);
        const cycle = findCycle(graph);
        assert.equal(cycle !== undefined, hasCycleByReachability(graph));
        if (cycle) {
          assertRealCycle(graph, cycle);
          assert.throws(() => compile(shapes), /depend on each other/);
        } else {
          assertSoundPlan(compile(shapes), shapes);
        }
      }),
      runs,
    );
  });

  test('a planted cycle is always found, and what is reported is a real cycle', () => {
    fc.assert(
      fc.property(cyclicShapes, (shapes) => {
        const graph = baseGraph(shapes);
        assert.equal(hasCycleByReachability(graph), true);
        const cycle = findCycle(graph);
        assert.ok(cycle, 'cycle found');
        assertRealCycle(graph, cycle);
      }),
      runs,
    );
  });
});
