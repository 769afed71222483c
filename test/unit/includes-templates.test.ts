// Includes and templates end to end: the merge rule on its own, then a project whose
// pipeline includes a file and extends a template, through `gbcms plan --json`, the server's
// worker-thread loader and `gbcms run` on the local backend.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { mergeLayers } from '../../engine/lint/templates.ts';
import { loadPlan } from '../../engine/load-plan.ts';
import { loadPlanInWorker } from '../../engine/load-plan-worker.ts';
import type { Plan, Trigger } from '../../engine/plan.ts';
import { gbcms } from '../helpers/cli.ts';
import { tempDir } from '../helpers/plans.ts';

describe('the merge rule', () => {
  test('maps merge key by key, recursively; the later layer wins a key', () => {
    const merged = mergeLayers([
      { value: { env: { CI: 'true', LEVEL: 'full' }, when: { branch: 'main' } }, source: ['templates', 'a'] },
      { value: { env: { LEVEL: 'quick' }, when: { event: 'push' } }, source: ['steps', 's'] },
    ]);
    assert.deepEqual(merged, {
      env: { CI: 'true', LEVEL: 'quick' },
      when: { branch: 'main', event: 'push' },
    });
  });

  test('lists, strings and numbers replace; nothing appends', () => {
    const merged = mergeLayers([
      {
        value: { commands: ['a', 'b'], image: 'x:1', retries: 2, env: { A: '1' } },
        source: ['templates', 'a'],
      },
      { value: { commands: ['c'], image: 'y:2' }, source: ['templates', 'b'] },
      { value: { retries: 0, env: 'not a map' }, source: ['steps', 's'] },
    ]);
    assert.deepEqual(merged, { commands: ['c'], image: 'y:2', retries: 0, env: 'not a map' });
  });

  test('the layers are left as they were, so one template serves many steps', () => {
    const template = { env: { A: '1' } };
    mergeLayers([
      { value: template, source: ['templates', 't'] },
      { value: { env: { B: '2' } }, source: ['steps', 's'] },
    ]);
    assert.deepEqual(template, { env: { A: '1' } });
  });

  test('each key set is reported with where it was written; a map taken whole, once', () => {
    const seen: string[] = [];
    mergeLayers(
      [
        { value: { env: { A: '1', B: '1' }, timeout: '5m' }, source: ['templates', 't'] },
        { value: { env: { B: '2' } }, source: ['steps', 's'] },
      ],
      (at, source) => seen.push(`${at.join('.')} <- ${source.join('.')}`),
    );
    assert.deepEqual(seen, [
      'env <- templates.t.env',
      'timeout <- templates.t.timeout',
      'env.B <- steps.s.env.B',
    ]);
  });
});

const PIPELINE = `version: 1
name: includes-demo
include: [ci/*.yml]
steps:
  hello:
    extends: shell
    depends_on: [first]
    env:
      WHO: world
    commands: ['echo "hello $WHO from $ORIGIN at level $LEVEL"']
`;

const INCLUDED = `templates:
  shell:
    image: alpine:3.20
    timeout: 2m
    env:
      ORIGIN: template
      LEVEL: base
steps:
  first:
    extends: shell
    commands: [echo "included step ran at level $LEVEL"]
`;

const trigger: Trigger = { event: 'manual', branch: 'main', commit: 'abc123' };

function project(): string {
  const dir = tempDir('gbcms-includes-');
  mkdirSync(join(dir, 'ci'));
  writeFileSync(join(dir, '.gbcms.yml'), PIPELINE);
  writeFileSync(join(dir, 'ci', 'shell.yml'), INCLUDED);
  return dir;
}

describe('a pipeline with an include and a template', () => {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('gbcms plan --json shows the merged steps, the included one first', async () => {
    const dir = project();
    dirs.push(dir);
    const { code, stdout, stderr } = await gbcms(['plan', '--json', '--branch', 'main'], { cwd: dir });
    assert.equal(code, 0, stderr);
    const plan = JSON.parse(stdout) as Plan;
    assert.deepEqual(
      plan.steps.map((step) => step.name),
      ['first', 'hello'],
    );
    const hello = plan.steps.find((step) => step.name === 'hello');
    assert.ok(hello);
    assert.deepEqual(hello.env, { ORIGIN: 'template', LEVEL: 'base', WHO: 'world' });
    assert.equal(hello.timeoutMs, 120_000);
    assert.deepEqual(hello.dependsOn, ['first']);
    assert.deepEqual(hello.commands, ['echo "hello $WHO from $ORIGIN at level $LEVEL"']);
  });

  test("the server's worker-thread loader follows the include in the checkout", async () => {
    const dir = project();
    dirs.push(dir);
    const source = { path: join(dir, '.gbcms.yml'), display: '.gbcms.yml', workspace: dir };
    const inWorker = await loadPlanInWorker(source, { trigger });
    assert.ok(inWorker.plan, JSON.stringify(inWorker.diagnostics));
    assert.deepEqual(
      inWorker.plan.steps.map((step) => step.name),
      ['first', 'hello'],
    );
    assert.deepEqual(inWorker, await loadPlan(source, { trigger }));
  });

  test('a mistake in the included file is reported there, by the worker too', async () => {
    const dir = project();
    dirs.push(dir);
    writeFileSync(join(dir, 'ci', 'shell.yml'), INCLUDED.replace('timeout: 2m', 'timeout: soon'));
    const source = { path: join(dir, '.gbcms.yml'), display: '.gbcms.yml', workspace: dir };
    const inWorker = await loadPlanInWorker(source, { trigger });
    assert.equal(inWorker.plan, undefined);
    const where = inWorker.diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.code}`);
    // Both steps extend the template: each finding points at the template's line.
    assert.deepEqual(where, [
      'ci/shell.yml:4:14 GBCMS_SCHEMA_DURATION',
      'ci/shell.yml:4:14 GBCMS_SCHEMA_DURATION',
    ]);
  });

  test('gbcms run --backend local runs the included step and the merged one', async () => {
    const dir = project();
    dirs.push(dir);
    const { code, stdout, stderr } = await gbcms(['run', '--backend', 'local'], { cwd: dir });
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    const output = `${stdout}${stderr}`;
    assert.match(output, /included step ran at level base/);
    assert.match(output, /hello world from template at level base/);
  });
});
