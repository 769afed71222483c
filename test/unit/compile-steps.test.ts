import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normaliseArtifact } from '../../engine/compile/artifacts.ts';
import { compilePlan } from '../../engine/compile/compiler.ts';
import type { PipelineFile } from '../../engine/config/pipeline-file.generated.ts';
import { DEFAULT_TIMEOUT_MS } from '../../engine/plan.ts';

const options = { file: '.gbcms.yml', workspace: '/work/demo', trigger: { event: 'manual' as const } };

describe('compilePlan steps', () => {
  test('defaults for timeout, retries, allow_failure, artifacts, reports and secrets', () => {
    const config: PipelineFile = {
      version: 1,
      steps: { a: { image: 'busybox:stable', commands: ['true'] } },
    };
    const plan = compilePlan(config, options);
    assert.deepEqual(plan.steps, [
      {
        name: 'a',
        slug: 'a',
        baseName: 'a',
        environment: plan.steps[0]?.environment,
        commands: ['true'],
        env: {},
        dependsOn: [],
        timeoutMs: DEFAULT_TIMEOUT_MS,
        retries: 0,
        allowFailure: false,
        artifacts: [],
        reports: {},
        secrets: [],
      },
    ]);
  });

  test('what the file sets is carried over', () => {
    const config: PipelineFile = {
      version: 1,
      steps: {
        test: {
          image: 'node:20',
          commands: ['npm test', 'npm run cover'],
          timeout: '1h30m',
          retries: 2,
          allow_failure: true,
          artifacts: ['./coverage/', { path: 'dist//', name: 'bundle' }, 'report.xml'],
          reports: { junit: 'junit.xml' },
          secrets: ['NPM_TOKEN'],
        },
      },
    };
    const [step] = compilePlan(config, options).steps;
    assert.equal(step?.timeoutMs, 90 * 60 * 1000);
    assert.equal(step?.retries, 2);
    assert.equal(step?.allowFailure, true);
    assert.deepEqual(step?.commands, ['npm test', 'npm run cover']);
    assert.deepEqual(step?.artifacts, [
      { path: 'coverage', dest: 'coverage' },
      { path: 'dist', dest: 'bundle' },
      { path: 'report.xml', dest: 'report.xml' },
    ]);
    assert.deepEqual(step?.reports, { junit: 'junit.xml' });
    assert.deepEqual(step?.secrets, ['NPM_TOKEN']);
  });

  test('step env is the pipeline env overlaid by the step env, all as text', () => {
    const config: PipelineFile = {
      version: 1,
      env: { CI_LEVEL: 1, SHARED: 'pipeline', VERBOSE: false },
      steps: {
        a: { image: 'x', commands: ['true'], env: { SHARED: 'step', PORT: 3000 } },
        b: { image: 'x', commands: ['true'] },
      },
    };
    const [a, b] = compilePlan(config, options).steps;
    assert.deepEqual(a?.env, { CI_LEVEL: '1', SHARED: 'step', VERBOSE: 'false', PORT: '3000' });
    assert.deepEqual(b?.env, { CI_LEVEL: '1', SHARED: 'pipeline', VERBOSE: 'false' });
  });

  test('plan name falls back to the workspace directory name; file, workspace and trigger are kept', () => {
    const config: PipelineFile = { version: 1, steps: { a: { image: 'x', commands: ['true'] } } };
    const trigger = { event: 'push' as const, branch: 'main', commit: 'abc123' };
    const plan = compilePlan(config, { ...options, trigger });
    assert.equal(plan.name, 'demo');
    assert.equal(plan.file, '.gbcms.yml');
    assert.equal(plan.workspace, '/work/demo');
    assert.deepEqual(plan.trigger, trigger);
    assert.equal(compilePlan({ ...config, name: 'My pipeline' }, options).name, 'My pipeline');
  });

  test('compiling twice gives equal plans and leaves the input untouched', () => {
    const config: PipelineFile = {
      version: 1,
      env: { A: 1 },
      steps: {
        a: { image: 'x', commands: ['true'], matrix: { v: [1, 2] } },
        b: { image: 'y', commands: ['go'] },
      },
    };
    const before = structuredClone(config);
    assert.deepEqual(compilePlan(config, options), compilePlan(config, options));
    assert.deepEqual(config, before);
  });
});

describe('normaliseArtifact', () => {
  test('strips leading ./ and trailing slashes, dest defaults to the path', () => {
    assert.deepEqual(normaliseArtifact('././out/'), { path: 'out', dest: 'out' });
    assert.deepEqual(normaliseArtifact({ path: 'a/b/', name: './b-files/' }), {
      path: 'a/b',
      dest: 'b-files',
    });
    assert.deepEqual(normaliseArtifact('.hidden/x'), { path: '.hidden/x', dest: '.hidden/x' });
  });
});
