// loadPlan is the one way from a pipeline file to a plan, for every command and the server.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadPlan } from '../../engine/load-plan.ts';
import { PipelineReadError } from '../../engine/pipeline.ts';
import { UnknownStepError } from '../../engine/plan-select.ts';
import { tempDir } from '../helpers/plans.ts';

const VALID = `version: 1
steps:
  build:
    image: busybox:stable
    commands: [make]
  test:
    image: busybox:stable
    commands: [make test]
    depends_on: [build]
  lint:
    image: busybox:stable
    commands: [make lint]
`;

function project(text: string): { path: string; display: string; workspace: string } {
  const workspace = tempDir('gbcms-load-plan-');
  const path = join(workspace, '.gbcms.yml');
  writeFileSync(path, text);
  return { path, display: '.gbcms.yml', workspace };
}

describe('loadPlan', () => {
  test('an invalid file gives its sorted diagnostics and no plan, without asking for the trigger', async () => {
    let asked = false;
    const loaded = await loadPlan(project('version: 1\nsteps:\n  a:\n    image: x\n    comands: [a]\n'), {
      trigger: async () => {
        asked = true;
        return { event: 'manual' };
      },
    });
    assert.equal(loaded.plan, undefined);
    assert.equal(asked, false);
    assert.deepEqual(
      loaded.diagnostics.map((d) => [d.file, d.line, d.code]),
      [
        ['.gbcms.yml', 4, 'GBCMS_SCHEMA_REQUIRED'],
        ['.gbcms.yml', 5, 'GBCMS_SCHEMA_UNKNOWN_KEY'],
      ],
    );
  });

  test('without a request it only lints; with one it compiles and selects', async () => {
    const source = project(VALID);
    const linted = await loadPlan(source);
    assert.deepEqual(linted, { file: '.gbcms.yml', diagnostics: [] });

    const { plan } = await loadPlan(source, { trigger: { event: 'push', branch: 'main' }, steps: ['test'] });
    assert.deepEqual(
      plan?.steps.map((s) => s.name),
      ['build', 'test'],
    );
    assert.equal(plan?.file, '.gbcms.yml');
    assert.equal(plan?.trigger.branch, 'main');
  });

  test('the pipeline is named by the file, else by the source default, else by the folder', async () => {
    const source = project(VALID);
    const trigger = { event: 'manual' } as const;
    const folderName = source.workspace.split('/').at(-1);
    assert.equal((await loadPlan(source, { trigger })).plan?.name, folderName);
    assert.equal(
      (await loadPlan({ ...source, defaultName: 'shop-api' }, { trigger })).plan?.name,
      'shop-api',
    );
    const named = project(`name: web\n${VALID}`);
    assert.equal((await loadPlan({ ...named, defaultName: 'shop-api' }, { trigger })).plan?.name, 'web');
  });

  test('an unreadable file and an unknown step are errors of their own kind', async () => {
    const source = project(VALID);
    await assert.rejects(
      loadPlan({ ...source, path: join(source.workspace, 'missing.yml') }),
      PipelineReadError,
    );
    await assert.rejects(
      loadPlan(source, { trigger: { event: 'manual' }, steps: ['deploy'] }),
      UnknownStepError,
    );
  });
});
