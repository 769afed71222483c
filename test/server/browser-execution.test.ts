// The execution page in real Chromium: log lines stream in while the execution runs, the
// status changes live, and step output never becomes markup. The test decides when each line
// is printed and waits for the page to show it: nothing depends on how fast either is.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { launchBrowser } from './helpers/browser.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

describe('execution page in Chromium', () => {
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

  /** An execution of the public project, begun, its step `build` running. */
  const buildRunning = async () => {
    const { id } = await server.executions.start({
      project: server.publicProject,
      trigger: { event: 'push', branch: 'main' },
      source: { kind: 'project' },
    });
    await server.executions.begin(id);
    await server.executions.step(id, 'build', 'running');
    return id;
  };

  test('log lines appear while it runs, then the status turns to success', async () => {
    const fake = server.executions;
    const id = await buildRunning();
    await fake.log(id, 'build', 'line 0 (before the page opened)');

    await browser.context.addCookies([{ name: 'gbcms_token', value: server.tokens.owner, url: base }]);
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(`${base}/executions/${id}`);
    assert.equal(await page.locator('#status').textContent(), 'running');
    assert.equal(await page.locator('#terminate-form').isVisible(), true);

    // Two lines while it runs: the page shows them, and the execution is still running.
    // The running step is selected; its lines are rows of the log view.
    const build = page.locator('#log-panel[data-step="build"] #log');
    await fake.log(id, 'build', 'line 1');
    await fake.log(id, 'build', 'line 2');
    await build.getByText('line 2').waitFor();
    assert.equal(await page.locator('#status').textContent(), 'running');

    // A hostile line in the middle, then a test step, then the end.
    await fake.log(id, 'build', '\u001b[31m<img src=x onerror="window.__xss=1">\u001b[0m');
    for (let i = 4; i <= 6; i++) await fake.log(id, 'build', `line ${i}`);
    await fake.step(id, 'build', 'success');
    await fake.step(id, 'test', 'running');
    await fake.log(id, 'test', 'tests pass');
    await fake.step(id, 'test', 'success');
    await fake.finish(id, 'success');

    await page.locator('#status.status-success').waitFor();
    // The page followed the running step to `test`; the build step's link shows its log again.
    await page.locator('#log-panel[data-step="test"] .line-text', { hasText: 'tests pass' }).waitFor();
    await page.locator('#steps li[data-step="build"] .step-link').click();
    await build.locator('.line-text', { hasText: 'line 6' }).waitFor();
    assert.equal(await page.locator('#status').textContent(), 'success');
    assert.equal(await page.locator('#terminate-form').isVisible(), false, 'terminate hidden once ended');
    assert.equal(await page.locator('#rerun-form').isVisible(), true);

    const lines = await build.locator('.line .line-text').allTextContents();
    assert.deepEqual(lines, [
      'line 0 (before the page opened)',
      'line 1',
      'line 2',
      '<img src=x onerror="window.__xss=1">',
      'line 4',
      'line 5',
      'line 6',
    ]);
    assert.equal(await build.locator('img').count(), 0);
    assert.equal(await build.locator('span[style="color:#ff7b72"]').count(), 1, 'ANSI red rendered');
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    assert.equal(await page.locator('#steps li[data-step="test"] .status').textContent(), 'success');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a stream cut off and then refused (503) is opened again after the last event, nothing twice', async () => {
    const fake = server.executions;
    const id = await buildRunning();
    await browser.context.addCookies([{ name: 'gbcms_token', value: server.tokens.owner, url: base }]);
    const page = await browser.context.newPage();
    // The first connection goes through; the browser's own reconnect is refused as a server
    // would while the execution moves to another one; the page's next try goes through.
    const asked: string[] = [];
    await page.route(`**/api/executions/${id}/events**`, async (route) => {
      asked.push(route.request().url());
      if (asked.length === 2) {
        await route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({ error: 'GBCMS_ERR_PEER_UNAVAILABLE', message: 'retry' }),
        });
      } else await route.continue();
    });
    await page.goto(`${base}/executions/${id}`);
    const build = page.locator('#log-panel[data-step="build"] #log');
    await fake.log(id, 'build', 'line 1');
    await build.getByText('line 1').waitFor();

    // Every connection cut, as when the server streaming it dies.
    server.app.server.closeAllConnections();
    await fake.log(id, 'build', 'line 2');
    await build.getByText('line 2').waitFor();
    assert.equal(asked.length, 3, asked.join('\n'));
    assert.match(asked[2] ?? '', /[?&]after=\d+/, 'the page resumes after the last event it got');
    await fake.log(id, 'build', 'line 3');
    await fake.step(id, 'build', 'success');
    await fake.finish(id, 'success');
    await page.locator('#status.status-success').waitFor();
    assert.deepEqual(await build.locator('.line .line-text').allTextContents(), [
      'line 1',
      'line 2',
      'line 3',
    ]);
    await page.close();
  });

  test('Terminate button stops a running execution', async () => {
    const fake = server.executions;
    const { id } = await fake.start({
      project: server.publicProject,
      trigger: { event: 'push', branch: 'main' },
      source: { kind: 'project' },
    });
    await fake.begin(id);
    const page = await browser.context.newPage();
    await page.goto(`${base}/executions/${id}`);
    await Promise.all([
      page.waitForURL(`${base}/executions/${id}`),
      page.locator('#terminate-form button').click(),
    ]);
    await page.locator('#status.status-killed').waitFor();
    assert.equal((await server.store.executions.get(id))?.status, 'killed');
    await page.close();
  });
});
