// An execution whose pipeline file is invalid, in real Chromium on a phone's width: each
// mistake is listed at its place with the file's lines around it and a caret under the column;
// a long line scrolls inside its box, never the page; axe finds nothing serious.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { loadExecutionPlan } from '../../server/executions/execute.ts';
import { writeDiagnostics } from '../../server/executions/pipeline-diagnostics.ts';
import { executionDir } from '../../server/routes/api/execution-files.ts';
import { launchBrowser } from './helpers/browser.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import { collectProblems, scrollsSideways, seriousViolations } from './helpers/page-checks.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const { tempDir } = cleanUpAfterAll();
const PHONE = { width: 390, height: 844 };

describe('an invalid pipeline file on the run page, in Chromium', () => {
  let server: TestServer;
  let base: string;
  let browser: { context: BrowserContext; close: () => Promise<void> };

  before(async () => {
    server = await startTestServer();
    base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('shows each mistake with its source lines and fits a phone', async () => {
    const workspace = await tempDir('gbcms-browser-diagnostics-');
    const longValue = `echo ${'x'.repeat(400)}`;
    await writeFile(
      join(workspace, '.gbcms.yml'),
      `version: 1\nsteps:\n  build:\n    image: alpine\n    commands: [${longValue}]\n    timeout: soon\n  test:\n    image: alpine\n    depends_on: [biuld]\n    commands: [make test]\n`,
    );
    const trigger = { event: 'push', branch: 'main' } as const;
    const loaded = await loadExecutionPlan(workspace, trigger, 'public-app', server.dir);
    assert.ok('reason' in loaded && loaded.diagnostics, 'the file is invalid');

    const execution = await server.executions.start({
      project: server.publicProject,
      trigger,
      source: { kind: 'project' },
    });
    // Where the server keeps them: beside the execution's logs.
    const runDir = executionDir(server.store.dataDir, execution);
    await mkdir(runDir, { recursive: true });
    await writeDiagnostics(runDir, loaded.diagnostics);
    await server.executions.finish(execution.id, 'error', loaded.reason);

    const page = await browser.context.newPage();
    await page.setViewportSize(PHONE);
    const problems = collectProblems(page);
    await page.goto(`${base}/executions/${execution.id}`);
    const items = page.locator('#diagnostics li.diagnostic');
    assert.equal(await items.count(), loaded.diagnostics.length);
    const timeout = items.filter({ hasText: 'GBCMS_SCHEMA_DURATION' });
    assert.match((await timeout.locator('.place').textContent()) ?? '', /^\.gbcms\.yml:6:\d+$/);
    assert.equal(await timeout.locator('.source-at').textContent(), '6     timeout: soon');
    assert.ok(await timeout.locator('pre.source').isVisible());
    const caret = (await timeout.locator('.caret').textContent()) ?? '';
    const at = (await timeout.locator('.source-at').textContent()) ?? '';
    assert.equal(
      at.slice(caret.length - 1, caret.length - 1 + 'soon'.length),
      'soon',
      'the caret is under the value',
    );
    assert.ok(await items.filter({ hasText: 'biuld' }).locator('pre.source').isVisible());
    assert.equal(await scrollsSideways(page), false, 'the page does not scroll sideways');
    assert.deepEqual(await seriousViolations(page), []);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
