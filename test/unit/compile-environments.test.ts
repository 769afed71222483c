import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePlan } from '../../engine/compile/compiler.ts';
import { resolveEnvironment } from '../../engine/compile/environments.ts';
import type { PipelineFile } from '../../engine/config/pipeline-file.generated.ts';
import { DEFAULT_RESOURCES, DEFAULT_USER } from '../../engine/plan.ts';

const options = { file: '.gbcms.yml', workspace: '/work/project', trigger: { event: 'push' as const } };

describe('resolveEnvironment', () => {
  test('fills every default', () => {
    assert.deepEqual(resolveEnvironment('node', { image: 'node:20' }, '/p'), {
      name: 'node',
      image: 'node:20',
      pull: 'if-not-present',
      resources: { ...DEFAULT_RESOURCES },
      network: 'none',
      runtime: 'runc',
      user: DEFAULT_USER,
      env: {},
    });
  });

  test('keeps what the file sets and converts units', () => {
    const env = resolveEnvironment(
      'big',
      {
        image: 'busybox:stable',
        pull: 'never',
        resources: { cpus: 0.5, memory: '512m', pids: 64, tmp: '64m' },
        network: 'bridge',
        runtime: 'gvisor',
        user: 'nobody',
        env: { PORT: 8080, DEBUG: true, NAME: 'x' },
      },
      '/p',
    );
    assert.deepEqual(env.resources, {
      nanoCpus: 500_000_000,
      memoryBytes: 512 * 1024 ** 2,
      pids: 64,
      tmpBytes: 64 * 1024 ** 2,
    });
    assert.equal(env.pull, 'never');
    assert.equal(env.network, 'bridge');
    assert.equal(env.runtime, 'gvisor');
    assert.equal(env.user, 'nobody');
    assert.deepEqual(env.env, { PORT: '8080', DEBUG: 'true', NAME: 'x' });
  });

  test('cpus become whole nano-CPUs and a bare memory number counts bytes', () => {
    const env = resolveEnvironment('e', { image: 'x', resources: { cpus: 0.1, memory: 1048576 } }, '/p');
    assert.equal(env.resources.nanoCpus, 100_000_000);
    assert.equal(env.resources.memoryBytes, 1048576);
    assert.equal(env.resources.pids, DEFAULT_RESOURCES.pids);
    assert.equal(env.resources.tmpBytes, DEFAULT_RESOURCES.tmpBytes);
  });

  test('a build context is resolved against the pipeline directory, args become text', () => {
    const env = resolveEnvironment('built', { build: { context: '../docker', args: { V: 3 } } }, '/p/ci');
    assert.deepEqual(env.build, { context: '/p/docker', dockerfile: 'Dockerfile', args: { V: '3' } });
    assert.equal(env.image, undefined);
    const custom = resolveEnvironment(
      'b',
      { build: { context: '.', dockerfile: 'ci/Dockerfile.test' } },
      '/p',
    );
    assert.deepEqual(custom.build, { context: '/p', dockerfile: 'ci/Dockerfile.test', args: {} });
  });

  test('an environment without image or build is an impossible state', () => {
    assert.throws(() => resolveEnvironment('empty', {}, '/p'), /neither image nor build/);
  });
});

describe('compilePlan environments', () => {
  test('a named environment is resolved for the step that names it', () => {
    const config: PipelineFile = {
      version: 1,
      environments: { node: { image: 'node:20-bookworm-slim', resources: { memory: '1g' } } },
      steps: { install: { environment: 'node', commands: ['npm ci'] } },
    };
    const [step] = compilePlan(config, options).steps;
    assert.equal(step?.environment.name, 'node');
    assert.equal(step?.environment.image, 'node:20-bookworm-slim');
    assert.equal(step?.environment.resources.memoryBytes, 1024 ** 3);
  });

  test('a bare image is an anonymous environment with defaults', () => {
    const config: PipelineFile = {
      version: 1,
      steps: { hello: { image: 'busybox:stable', commands: ['echo hi'] } },
    };
    const [step] = compilePlan(config, options).steps;
    assert.deepEqual(
      step?.environment,
      resolveEnvironment('image:busybox:stable', { image: 'busybox:stable' }, '/'),
    );
    assert.equal(step?.environment.name, 'image:busybox:stable');
  });

  test('build contexts follow the pipeline file, not the workspace root', () => {
    const config: PipelineFile = {
      version: 1,
      environments: { tools: { build: { context: 'docker' } } },
      steps: { lint: { environment: 'tools', commands: ['lint'] } },
    };
    const plan = compilePlan(config, { ...options, file: 'ci/pipeline.yml' });
    assert.equal(plan.steps[0]?.environment.build?.context, '/work/project/ci/docker');
    const absolute = compilePlan(config, { ...options, file: '/elsewhere/pipeline.yml' });
    assert.equal(absolute.steps[0]?.environment.build?.context, '/elsewhere/docker');
  });

  test('a step with neither environment nor image, or an unknown one, throws', () => {
    const none = { version: 1, steps: { a: { commands: ['x'] } } } satisfies PipelineFile;
    assert.throws(() => compilePlan(none, options), /neither environment nor image/);
    const unknown = {
      version: 1,
      steps: { a: { environment: 'nope', commands: ['x'] } },
    } satisfies PipelineFile;
    assert.throws(() => compilePlan(unknown, options), /unknown environment 'nope'/);
    const proto = {
      version: 1,
      steps: { a: { environment: 'constructor', commands: ['x'] } },
    } satisfies PipelineFile;
    assert.throws(() => compilePlan(proto, options), /unknown environment 'constructor'/);
  });
});
