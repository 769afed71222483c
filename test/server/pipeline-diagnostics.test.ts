// An invalid pipeline file on the server: the execution ends `error` with one line per mistake
// as its reason, and the run page shows each mistake with the lines of its file around it
// (diagnostics.json, kept beside the logs: the checkout is gone by then), also for a mistake
// in an included file. No file outside the checkout is ever read for an excerpt.
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildApp } from '../../server/app.ts';
import { readDiagnostics, withSource } from '../../server/executions/pipeline-diagnostics.ts';
import { executionDir } from '../../server/routes/api/execution-files.ts';
import { openStore } from '../../server/store/index.ts';
import { pollUntil } from '../helpers/poll.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { FakeExecutions } from './helpers/fake-executions.ts';
import { openFakeManagers, warningsLogger, writePipeline } from './helpers/fake-managers.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();

const PIPELINE = `version: 1
include: [ci/common.yml]
steps:
  build:
    image: alpine
    commands: [make]
    timeout: soon
`;
const INCLUDED = `steps:
  lint:
    image: alpine
    commandz: [eslint .]
`;

describe('an invalid pipeline file on the server', () => {
  test('ends `error`; the run page shows each mistake with its source lines, included files too', async () => {
    const dataDir = await tempDir('gbcms-diagnostics-');
    const opened = await openFakeManagers(dataDir, warningsLogger());
    onCleanup(opened.close);
    const repo = await tempDir('gbcms-diagnostics-src-');
    await mkdir(join(repo, 'ci'));
    await writePipeline(repo, PIPELINE, { 'ci/common.yml': INCLUDED });
    const project = await opened.store.projects.create({ name: 'diagnosed', repo, visibility: 'public' });
    const started = await opened.manager.start({
      project,
      trigger: { event: 'push', branch: 'main' },
      source: { kind: 'project' },
    });
    const ended = await pollUntil('the execution to end', async () => {
      const row = await opened.store.executions.get(started.id);
      return row?.ended_at ? row : undefined;
    });
    assert.equal(ended.status, 'error');
    const reasonLines = (ended.reason ?? '').split('\n');
    assert.ok(
      reasonLines.some((line) => /^\.gbcms\.yml:7:\d+: error /.test(line)),
      ended.reason ?? '',
    );
    assert.ok(
      reasonLines.some((line) => /^ci\/common\.yml:4:\d+: error /.test(line)),
      ended.reason ?? '',
    );

    const kept = await readDiagnostics(executionDir(dataDir, ended));
    assert.ok(kept);
    assert.deepEqual(
      kept.map((d) => d.text),
      reasonLines,
      'the kept diagnostics are the reason, line for line',
    );
    const inMain = kept.find((d) => d.file === '.gbcms.yml');
    assert.equal(inMain?.source?.line, 7);
    assert.equal(inMain?.source?.lines[(inMain.source.line ?? 0) - inMain.source.first], '    timeout: soon');
    const inIncluded = kept.find((d) => d.file === 'ci/common.yml' && d.line === 4);
    assert.equal(inIncluded?.source?.first, 2);
    assert.deepEqual(inIncluded?.source?.lines, ['  lint:', '    image: alpine', '    commandz: [eslint .]']);

    // The page, served from the same data folder.
    const store = await openStore(dataDir);
    const app = await buildApp({ store, executions: new FakeExecutions(store), logger: { level: 'silent' } });
    onCleanup(async () => {
      await app.close();
      await store.close();
    });
    const page = (await app.inject({ url: `/executions/${ended.id}` })).body;
    assert.match(page, /<code class="place">\.gbcms\.yml:7:\d+<\/code>/);
    assert.match(
      page,
      /<span class="source-line source-at"><span class="ln">7<\/span> {5}timeout: soon<\/span>/,
    );
    assert.match(page, /<span class="ln">4<\/span> {5}commandz: \[eslint \.\]/);
    assert.match(page, /<span class="caret" aria-hidden="true"> +\^<\/span>/);
  });

  test('no excerpt for a file that leads outside the checkout, a remote include, or a missing line', async () => {
    const outside = await tempDir('gbcms-diagnostics-outside-');
    await writeFile(join(outside, 'secret.yml'), 'password: hunter2\n');
    const workspace = await tempDir('gbcms-diagnostics-ws-');
    await writeFile(join(workspace, '.gbcms.yml'), 'version: 1\n');
    await symlink(join(outside, 'secret.yml'), join(workspace, 'linked.yml'));
    const names = { path: join(workspace, '.gbcms.yml'), display: '.gbcms.yml', workspace };
    const base = { severity: 'error' as const, code: 'GBCMS_X', message: 'm', path: '' };
    const shown = await withSource(
      [
        { ...base, file: 'linked.yml', line: 1, col: 1 },
        { ...base, file: '../gbcms-diagnostics-outside/secret.yml', line: 1, col: 1 },
        { ...base, file: 'https://example.com/ci.yml', line: 1, col: 1 },
        { ...base, file: '.gbcms.yml', line: 9, col: 1 },
        { ...base, file: '.gbcms.yml' },
        { ...base, file: '.gbcms.yml', line: 1, col: 3 },
      ],
      names,
    );
    assert.deepEqual(
      shown.map((d) => d.source?.lines ?? null),
      [null, null, null, null, null, ['version: 1']],
    );
    assert.ok(!JSON.stringify(shown).includes('hunter2'));
  });
});
