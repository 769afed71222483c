// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${{ matrix.X }} in plain strings
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePlan } from '../../engine/compile/compiler.ts';
import {
  matrixCombinations,
  matrixEnv,
  matrixStepName,
  substituteMatrix,
} from '../../engine/config/matrix.ts';
import type { PipelineFile } from '../../engine/config/pipeline-file.generated.ts';

const options = { file: '.gbcms.yml', workspace: '/w', trigger: { event: 'push' as const, branch: 'main' } };

describe('matrix helpers', () => {
  test('combinations follow axis order, the first axis varying slowest, values as text', () => {
    assert.deepEqual(matrixCombinations({ node: [18, 20], os: ['a', 'b'] }), [
      { node: '18', os: 'a' },
      { node: '18', os: 'b' },
      { node: '20', os: 'a' },
      { node: '20', os: 'b' },
    ]);
    assert.deepEqual(matrixCombinations({ flag: [true, false] }), [{ flag: 'true' }, { flag: 'false' }]);
  });

  test('names and env', () => {
    assert.equal(matrixStepName('test', { node: '18', os: 'a' }), 'test (node=18, os=a)');
    assert.deepEqual(matrixEnv({ node: '18', os_name: 'a' }), { MATRIX_NODE: '18', MATRIX_OS_NAME: 'a' });
  });

  test('substitution accepts optional spaces and leaves unknown axes alone', () => {
    const combo = { node: '20' };
    assert.equal(substituteMatrix('node:${{ matrix.node }}-slim', combo), 'node:20-slim');
    assert.equal(substituteMatrix('${{matrix.node}}/${{   matrix.node   }}', combo), '20/20');
    assert.equal(substituteMatrix('${{ matrix.os }} ${{ env.X }}', combo), '${{ matrix.os }} ${{ env.X }}');
    assert.equal(substituteMatrix('no refs $node', combo), 'no refs $node');
  });
});

describe('compilePlan matrix', () => {
  const config: PipelineFile = {
    version: 1,
    env: { WHERE: 'on ${{ matrix.os }}' },
    environments: {
      'node-18': { image: 'node:18' },
      'node-20': { image: 'node:20' },
    },
    steps: {
      test: {
        environment: 'node-${{ matrix.node }}',
        commands: ['echo node ${{ matrix.node }} on ${{matrix.os}}'],
        env: { LABEL: '${{ matrix.node }}-${{ matrix.os }}' },
        matrix: { node: [18, 20], os: ['a', 'b'] },
      },
      build: {
        image: 'busybox:${{ matrix.tag }}',
        commands: ['true'],
        matrix: { tag: ['stable', 'musl'] },
        depends_on: [],
      },
    },
  };

  test('one step per combination, named and substituted', () => {
    const plan = compilePlan(config, options);
    const tests = plan.steps.filter((s) => s.baseName === 'test');
    assert.deepEqual(
      tests.map((s) => s.name),
      ['test (node=18, os=a)', 'test (node=18, os=b)', 'test (node=20, os=a)', 'test (node=20, os=b)'],
    );
    const first = tests[0];
    assert.deepEqual(first?.matrix, { node: '18', os: 'a' });
    assert.equal(first?.environment.name, 'node-18');
    assert.equal(first?.environment.image, 'node:18');
    assert.deepEqual(first?.commands, ['echo node 18 on a']);
    assert.deepEqual(first?.env, { WHERE: 'on a', LABEL: '18-a', MATRIX_NODE: '18', MATRIX_OS: 'a' });
    assert.equal(tests[3]?.environment.image, 'node:20');
  });

  test('an image with a matrix reference becomes one anonymous environment per value', () => {
    const builds = compilePlan(config, options).steps.filter((s) => s.baseName === 'build');
    assert.deepEqual(
      builds.map((s) => [s.name, s.environment.name, s.environment.image]),
      [
        ['build (tag=stable)', 'image:busybox:stable', 'busybox:stable'],
        ['build (tag=musl)', 'image:busybox:musl', 'busybox:musl'],
      ],
    );
  });

  test('a step without a matrix has no matrix field and no substitution', () => {
    const plain: PipelineFile = {
      version: 1,
      steps: { a: { image: 'x', commands: ['echo ${{ matrix.x }}'] } },
    };
    const [step] = compilePlan(plain, options).steps;
    assert.equal(step && 'matrix' in step, false);
    assert.deepEqual(step?.commands, ['echo ${{ matrix.x }}']);
  });

  test('two combinations that print the same name are an impossible state', () => {
    const clash: PipelineFile = {
      version: 1,
      steps: { a: { image: 'x', commands: ['true'], matrix: { v: [1, '1'] } } },
    };
    assert.throws(() => compilePlan(clash, options), /two steps are named 'a \(v=1\)'/);
  });
});
