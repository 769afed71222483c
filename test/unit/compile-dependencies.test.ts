import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePlan } from '../../engine/compile/compiler.ts';
import type { PipelineFile, Step } from '../../engine/config/pipeline-file.generated.ts';
import type { Plan, Trigger } from '../../engine/plan.ts';

const main: Trigger = { event: 'push', branch: 'main' };

function plan(steps: Record<string, Omit<Step, 'commands' | 'image'>>, trigger: Trigger = main): Plan {
  const full: Record<string, Step> = {};
  for (const [name, step] of Object.entries(steps))
    full[name] = { image: 'busybox:stable', commands: ['true'], ...step };
  const config: PipelineFile = { version: 1, steps: full };
  return compilePlan(config, { file: '.gbcms.yml', workspace: '/w', trigger });
}

function deps(p: Plan): Record<string, string[]> {
  return Object.fromEntries(p.steps.map((s) => [s.name, s.dependsOn]));
}

function skips(p: Plan): Record<string, string | undefined> {
  return Object.fromEntries(p.steps.map((s) => [s.name, s.skip]));
}

describe('compilePlan dependencies', () => {
  test('without depends_on a step waits for the one above; [] starts at once', () => {
    const p = plan({ a: {}, b: {}, c: { depends_on: [] }, d: {} });
    assert.deepEqual(deps(p), { a: [], c: [], b: ['a'], d: ['c'] });
    assert.deepEqual(p.layers, [
      ['a', 'c'],
      ['b', 'd'],
    ]);
    assert.deepEqual(
      p.steps.map((s) => s.name),
      ['a', 'c', 'b', 'd'],
    );
  });

  test('explicit depends_on, possibly on a step further down', () => {
    const p = plan({
      deploy: { depends_on: ['test', 'build'] },
      build: { depends_on: [] },
      test: { depends_on: ['build'] },
    });
    assert.deepEqual(p.layers, [['build'], ['test'], ['deploy']]);
    assert.deepEqual(deps(p).deploy, ['test', 'build']);
  });

  test('depending on a matrix step means all of its expansions, implicitly or explicitly', () => {
    const p = plan({
      test: { matrix: { node: [18, 20] } },
      report: {},
      deploy: { depends_on: ['test'] },
    });
    const all = ['test (node=18)', 'test (node=20)'];
    assert.deepEqual(deps(p).report, all);
    assert.deepEqual(deps(p).deploy, all);
    assert.deepEqual(p.layers, [all, ['report', 'deploy']]);
  });

  test('a matrix step after a matrix step waits for every expansion of it', () => {
    const p = plan({ build: { matrix: { os: ['a', 'b'] } }, test: { matrix: { v: [1, 2, 3] } } });
    for (const v of [1, 2, 3]) assert.deepEqual(deps(p)[`test (v=${v})`], ['build (os=a)', 'build (os=b)']);
    assert.deepEqual(p.layers, [
      ['build (os=a)', 'build (os=b)'],
      ['test (v=1)', 'test (v=2)', 'test (v=3)'],
    ]);
  });

  test('a matrix step waiting for a plain step: every expansion waits for it', () => {
    const p = plan({ install: {}, test: { matrix: { v: [1, 2] } } });
    assert.deepEqual(deps(p), { install: [], 'test (v=1)': ['install'], 'test (v=2)': ['install'] });
  });

  test('cycles and unknown steps are impossible states', () => {
    assert.throws(
      () => plan({ a: { depends_on: ['b'] }, b: { depends_on: ['a'] } }),
      /a -> b -> a|b -> a -> b/,
    );
    assert.throws(() => plan({ a: { depends_on: ['ghost'] } }), /unknown step 'ghost'/);
  });
});

describe('compilePlan skipping', () => {
  test('a step whose when fails is skipped with the reason', () => {
    const p = plan(
      { build: {}, deploy: { when: { branch: ['main', 'release/*'] } } },
      { event: 'push', branch: 'feature/x' },
    );
    assert.deepEqual(skips(p), {
      build: undefined,
      deploy: "when.branch: 'feature/x' does not match main, release/*",
    });
  });

  test('skips propagate to every transitive dependent, naming the direct skipped dependency', () => {
    const p = plan(
      {
        lint: { depends_on: [] },
        docs: { depends_on: [], when: { path: 'docs/**' } },
        publish: { depends_on: ['docs', 'lint'] },
        announce: {},
        cleanup: { depends_on: ['lint'] },
      },
      { event: 'push', branch: 'main', changedPaths: ['src/a.ts'] },
    );
    assert.deepEqual(skips(p), {
      lint: undefined,
      docs: 'when.path: none of 1 changed path matches docs/**',
      publish: "depends on skipped step 'docs'",
      announce: "depends on skipped step 'publish'",
      cleanup: undefined,
    });
  });

  test('a skipped matrix step skips every expansion and its dependents', () => {
    const p = plan({ test: { matrix: { v: [1, 2] }, when: { event: 'tag' } }, after: {} }, main);
    assert.deepEqual(skips(p), {
      'test (v=1)': "when.event: 'push' does not match tag",
      'test (v=2)': "when.event: 'push' does not match tag",
      after: "depends on skipped step 'test'",
    });
  });

  test('the step’s own when is the reason even when a dependency is skipped too', () => {
    const p = plan({ a: { when: { event: 'tag' } }, b: { when: { branch: 'dev' } } });
    assert.equal(p.steps[1]?.skip, "when.branch: 'main' does not match dev");
  });
});
