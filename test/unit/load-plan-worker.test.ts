// loadPlanInWorker answers what loadPlan answers, from a real worker thread (started from the
// TypeScript sources, as gbcms runs today), and gives up a check over its time limit.
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadPlan } from '../../engine/load-plan.ts';
import { loadPlanInWorker, waitingCheckThreads } from '../../engine/load-plan-worker.ts';
import { MAX_PIPELINE_BYTES, PipelineReadError } from '../../engine/pipeline.ts';
import type { Trigger } from '../../engine/plan.ts';
import { UnknownStepError } from '../../engine/plan-select.ts';
import { tempDir } from '../helpers/plans.ts';

const trigger: Trigger = { event: 'push', branch: 'main', commit: 'abc123', changedPaths: ['src/a.ts'] };

function project(text: string): { path: string; display: string; workspace: string } {
  const workspace = tempDir('gbcms-plan-worker-');
  const path = join(workspace, '.gbcms.yml');
  writeFileSync(path, text);
  return { path, display: '.gbcms.yml', workspace };
}

/** A file of stray `]`: an error per byte, refused by the token budget. */
const DENSE = ']'.repeat(MAX_PIPELINE_BYTES - 16);

describe('loadPlanInWorker', () => {
  test('a valid file: the same plan as loadPlan, matrix and build contexts included', async () => {
    for (const example of ['matrix', 'build-env', 'dag']) {
      const workspace = tempDir('gbcms-plan-worker-');
      cpSync(join('examples', example), workspace, { recursive: true });
      const source = {
        path: join(workspace, '.gbcms.yml'),
        display: '.gbcms.yml',
        workspace,
        defaultName: 'shop',
      };
      const inWorker = await loadPlanInWorker(source, { trigger });
      assert.ok(inWorker.plan, `${example}: ${JSON.stringify(inWorker.diagnostics)}`);
      assert.deepEqual(inWorker, await loadPlan(source, { trigger }), example);
    }
  });

  test('an invalid file: the same diagnostics as in-process linting', async () => {
    for (const text of [DENSE, 'version: 1\nsteps:\n  a: {image: x, comands: [a]}\n', '']) {
      const source = project(text);
      const inWorker = await loadPlanInWorker(source, { trigger });
      assert.ok(inWorker.diagnostics.length > 0);
      assert.deepEqual(inWorker, await loadPlan(source, { trigger }));
    }
  });

  test('without a request: diagnostics only, as loadPlan', async () => {
    const source = project('version: 1\nsteps:\n  a: {image: x, commands: [a]}\n');
    assert.deepEqual(await loadPlanInWorker(source), { file: '.gbcms.yml', diagnostics: [] });
  });

  test('a file that cannot be read: the same PipelineReadError', async () => {
    const workspace = tempDir('gbcms-plan-worker-');
    const source = { path: join(workspace, 'missing.yml'), display: 'missing.yml', workspace };
    const expected = await loadPlan(source).catch((error: unknown) => error);
    assert.ok(expected instanceof PipelineReadError);
    await assert.rejects(loadPlanInWorker(source), (error: unknown) => {
      assert.ok(error instanceof PipelineReadError);
      assert.equal(error.message, expected.message);
      assert.equal(error.file, 'missing.yml');
      return true;
    });
  });

  test('an unknown step: the same UnknownStepError', async () => {
    const source = project('version: 1\nsteps:\n  a: {image: x, commands: [a]}\n');
    await assert.rejects(loadPlanInWorker(source, { trigger, steps: ['nope'] }), (error: unknown) => {
      assert.ok(error instanceof UnknownStepError);
      assert.deepEqual([error.names, error.available], [['nope'], ['a']]);
      return true;
    });
  });

  test('over the time limit: the thread is given up with a located error', async () => {
    // 1 ms: no thread, warm or not, lints 1 MiB that fast.
    const loaded = await loadPlanInWorker(project(DENSE), { trigger }, { timeoutMs: 1 });
    assert.equal(loaded.plan, undefined);
    assert.deepEqual(
      loaded.diagnostics.map(({ severity, code, file, line, col }) => ({ severity, code, file, line, col })),
      [{ severity: 'error', code: 'GBCMS_FILE_CHECK_TIMEOUT', file: '.gbcms.yml', line: 1, col: 1 }],
    );
    assert.match(loaded.diagnostics[0]?.message ?? '', /^pipeline file took too long to check \(over 1 ms\)/);
  });

  test('a thread stays warm for the next check; one given up is replaced', async () => {
    const valid = project(
      'version: 1\nname: warm\nenvironments:\n  shell:\n    image: busybox:stable\nsteps:\n  hello:\n    environment: shell\n    commands: [echo hi]\n',
    );
    await loadPlanInWorker(valid, { trigger });
    assert.equal(waitingCheckThreads(), 1);
    for (let i = 0; i < 3; i++) {
      const loaded = await loadPlanInWorker(valid, { trigger });
      assert.equal(loaded.plan?.steps.length, 1);
      assert.equal(waitingCheckThreads(), 1, 'checks one after another share one thread');
    }
    await loadPlanInWorker(project(DENSE), { trigger }, { timeoutMs: 1 });
    assert.equal(waitingCheckThreads(), 0, 'a thread past its limit is not kept');
    const after = await loadPlanInWorker(valid, { trigger });
    assert.equal(after.plan?.steps.length, 1);
    assert.equal(waitingCheckThreads(), 1);
  });
});
