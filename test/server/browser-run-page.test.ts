// The run page in real Chromium, one page load per situation with its assertions grouped:
// a failed run (the failing step selected and scrolled to its end, the reason, every log colour
// readable, folding, timestamps, a skipped step saying why, accessibility, a phone's width),
// a running DAG (graph colours, ticking times, the followed step, artifacts once each, an
// external execution that cannot be re-run), and a 500,000-line stored log opened at its end
// (its last command folds) and reached by a link.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { pollUntil } from '../helpers/poll.ts';
import { launchBrowser } from './helpers/browser.ts';
import {
  collectProblems,
  contrastRatios,
  scrollsSideways,
  seriousViolations,
} from './helpers/page-checks.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const PALETTE_LINES = [30, 31, 32, 33, 34, 35, 36, 37, 90, 91, 92, 93, 94, 95, 96, 97].map(
  (code) => `\u001b[${code}mcolour ${code}\u001b[0m`,
);

describe('run page in Chromium', () => {
  let server: TestServer;
  let base: string;
  let browser: { context: BrowserContext; close: () => Promise<void> };

  before(async () => {
    server = await startTestServer();
    base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
    await browser.context.addCookies([{ name: 'gbcms_token', value: server.tokens.owner, url: base }]);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  async function started(): Promise<string> {
    const { id } = await server.executions.start({
      project: server.publicProject,
      trigger: { event: 'push', branch: 'main' },
      source: { kind: 'project' },
      message: 'Cache the API client\n\nFewer round trips.',
    });
    await server.executions.begin(id);
    return id;
  }

  /** Top and bottom of the row for line `seq`, and of the log's viewport. */
  function rowInView(page: Page, seq: number): Promise<boolean> {
    return page.evaluate((seq) => {
      const view = document.getElementById('log') as HTMLElement;
      const row = view.querySelector(`.line[data-seq="${seq}"]`);
      if (!row) return false;
      const a = row.getBoundingClientRect();
      const b = view.getBoundingClientRect();
      return a.top >= b.top && a.bottom <= b.bottom;
    }, seq);
  }

  test('a failed run opens on its failing step, scrolled to the end, readable and accessible', async () => {
    const fake = server.executions;
    const id = await started();
    await fake.graph(id, [
      { name: 'build', base: 'build', needs: [] },
      { name: 'test (node=18)', base: 'test', needs: ['build'] },
      { name: 'test (node=20)', base: 'test', needs: ['build'] },
      { name: 'lint', base: 'lint', needs: ['build'] },
      { name: 'deploy', base: 'deploy', needs: ['test (node=18)', 'test (node=20)', 'lint'] },
    ]);
    await fake.step(id, 'build', 'running');
    await fake.log(id, 'build', 'built');
    await fake.step(id, 'build', 'success');
    for (const name of ['test (node=18)', 'test (node=20)']) await fake.step(id, name, 'success');
    await fake.step(id, 'lint', 'running');
    await fake.log(id, 'lint', '+ npm ci');
    for (let i = 2; i < 250; i++) await fake.log(id, 'lint', `installing ${i}`);
    await fake.log(id, 'lint', '+ npm run lint');
    for (let i = 251; i <= 283; i++) await fake.log(id, 'lint', `checking ${i}`, i % 2 ? 'stdout' : 'stderr');
    for (const line of PALETTE_LINES) await fake.log(id, 'lint', line);
    await fake.log(id, 'lint', 'lint found 2 problems');
    await fake.step(id, 'lint', 'failure', { reason: 'exit code 1' });
    await fake.step(id, 'deploy', 'skipped', { reason: "depends on 'lint', which ended with failure" });
    await fake.finish(id, 'failure');

    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    const problems = collectProblems(page);
    await page.goto(`${base}/executions/${id}`);

    // The failing step is selected, its log scrolled to its last line.
    assert.equal(await page.locator('#log-panel').getAttribute('data-step'), 'lint');
    // The page script marks the selection once it has run: wait for it rather than race it.
    await page.waitForSelector('#steps li[data-step="lint"] .step-link[aria-current="step"]');
    await page
      .locator('#log .line[data-seq="300"] .line-text', { hasText: 'lint found 2 problems' })
      .waitFor();
    assert.ok(await rowInView(page, 300), 'the last line is in view');
    assert.equal(await rowInView(page, 1), false, 'the first line is scrolled away');
    assert.equal(await page.locator('#reason').textContent(), 'lint failed (exit code 1)');
    assert.equal(await page.locator('.run-message').textContent(), 'Cache the API client');
    assert.equal(await page.locator('#steps li[data-step="lint"] .step-reason').textContent(), 'exit code 1');

    // Every colour in the log, from the page's real CSS, reads at 4.5:1 or better.
    const ratios = await contrastRatios(page, '#log .line-text span, #log .line, #log .line-number', '#log');
    assert.ok(
      Object.keys(ratios).length >= 17,
      `the 16 colours and the plain ones: ${JSON.stringify(ratios)}`,
    );
    for (const [color, ratio] of Object.entries(ratios))
      assert.ok(ratio >= 4.5, `${color}: ${ratio.toFixed(2)}:1`);

    // Line numbers link to `#step-LINE`; timestamps on demand; a command's section folds.
    assert.equal(
      await page.locator('#log .line[data-seq="300"] .line-number').getAttribute('href'),
      '#lint-300',
    );
    assert.equal(await page.locator('#log .line[data-seq="300"] .line-time').isVisible(), false);
    await page.locator('#show-timestamps').check();
    assert.match(
      (await page.locator('#log .line[data-seq="300"] .line-time').textContent()) ?? '',
      /^\d\d:\d\d:\d\d\.\d{3}$/,
    );
    assert.equal(await page.locator('#log .line[data-seq="300"] .line-time').isVisible(), true);
    await page.locator('#log .line[data-seq="250"] .fold').click();
    await page.locator('#log .line[data-seq="300"]').waitFor({ state: 'detached' });
    assert.equal(
      await page.locator('#log .line[data-seq="250"] .fold').getAttribute('aria-expanded'),
      'false',
    );
    await page.locator('#log .line[data-seq="250"] .fold').click();
    await page.locator('#log .line[data-seq="251"]').waitFor();

    assert.deepEqual(await seriousViolations(page), [], 'axe: no serious or critical violations');

    // A skipped step says why instead of showing an empty log.
    await page.locator('#steps li[data-step="deploy"] .step-link').click();
    await page
      .locator('#log-state', {
        hasText: "This step did not run: depends on 'lint', which ended with failure.",
      })
      .waitFor();
    assert.equal(await page.locator('#log').isVisible(), false);
    assert.equal(
      await page.locator('#step-graph .graph-step[data-step="deploy"]').getAttribute('data-status'),
      'skipped',
    );

    // On a phone: the steps above the log, and nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#steps li[data-step="lint"] .step-link').click();
    await page.locator('#log .line[data-seq="300"]').waitFor();
    assert.equal(await scrollsSideways(page), false, 'no sideways page scroll at 390 px');
    const stepsBox = await page.locator('#steps').boundingBox();
    const logBox = await page.locator('#log').boundingBox();
    assert.ok(stepsBox && logBox && stepsBox.y + stepsBox.height <= logBox.y, 'steps above the log');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a running DAG: live graph colours, ticking times, the running step followed, artifacts once', async () => {
    const fake = server.executions;
    const id = await started();
    await fake.graph(id, [
      { name: 'prepare', base: 'prepare', needs: [] },
      { name: 'count', base: 'count', needs: ['prepare'] },
      { name: 'report', base: 'report', needs: ['count'] },
    ]);
    await fake.step(id, 'prepare', 'running');
    await fake.step(id, 'count', 'pending');
    await fake.step(id, 'report', 'pending');
    await fake.log(id, 'prepare', 'preparing');
    await fake.artifact(id, 'prepare', 'numbers.txt', '1\n2\n');

    const page = await browser.context.newPage();
    const problems = collectProblems(page);
    await page.goto(`${base}/executions/${id}`);
    const fill = (step: string) =>
      page
        .locator(`#step-graph .graph-step[data-step="${step}"] circle`)
        .evaluate((c) => getComputedStyle(c).fill);
    assert.equal(await fill('prepare'), 'rgb(9, 105, 218)', 'running: blue');
    assert.equal(await fill('count'), 'rgb(140, 149, 159)', 'pending: grey');
    await page.locator('#log .line-text', { hasText: 'preparing' }).waitFor();

    // Times tick without a reload: the running step's duration and the run's.
    const stepDuration = page.locator('#steps li[data-step="prepare"] .step-duration');
    const first = await stepDuration.textContent();
    const firstRun = await page.locator('#duration').textContent();
    await pollUntil(
      'the running step time to advance',
      async () => (await stepDuration.textContent()) !== first,
    );
    await pollUntil(
      'the run time to advance',
      async () => (await page.locator('#duration').textContent()) !== firstRun,
    );

    // The graph follows the run; the page follows the running step.
    await fake.step(id, 'prepare', 'success');
    await fake.step(id, 'count', 'running');
    await pollUntil('prepare to turn green', async () => (await fill('prepare')) === 'rgb(26, 127, 55)');
    await page.locator('#log-panel[data-step="count"]').waitFor();
    await fake.log(id, 'count', 'counted 2');
    await page.locator('#log .line-text', { hasText: 'counted 2' }).waitFor();
    assert.equal(await fill('count'), 'rgb(9, 105, 218)');

    // An artifact stored before the page opened and one after: each listed once.
    await fake.artifact(id, 'count', 'count.txt', '2\n');
    await page.locator('#artifacts li[data-path="count.txt"]').waitFor();
    assert.deepEqual(await page.locator('#artifacts li a').allTextContents(), ['numbers.txt', 'count.txt']);

    await fake.step(id, 'count', 'success');
    await fake.step(id, 'report', 'success');
    await fake.finish(id, 'success');
    await page.locator('#status.status-success').waitFor();
    assert.equal(await page.locator('#reason-box').isVisible(), false, 'a success has no reason to show');
    assert.equal(await fill('report'), 'rgb(26, 127, 55)');
    assert.deepEqual(await page.locator('#artifacts li a').allTextContents(), ['numbers.txt', 'count.txt']);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('an external execution offers no Re-run, the API refuses one, and its session page is accessible', async () => {
    const session = await server.store.sessions.create(server.publicProject.id, 'sweep');
    const external = await server.store.executions.create({
      project_id: server.publicProject.id,
      trigger: { event: 'api' },
      external: { session_id: session.id, name: 'lr=0.1', heartbeat_timeout_s: 60 },
    });
    await server.store.executions.setEnded(external.id, 'success', null);
    const refused = await server.request('owner', {
      method: 'POST',
      url: `/api/executions/${external.id}/rerun`,
    });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error, 'GBCMS_ERR_EXTERNAL_RERUN');

    const page = await browser.context.newPage();
    const problems = collectProblems(page);
    await page.goto(`${base}/executions/${external.id}`);
    assert.equal(await page.locator('#rerun-form').count(), 0);
    await page.goto(`${base}/sessions/${session.id}`);
    assert.deepEqual(await seriousViolations(page), [], 'axe on the session page');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a 500,000-line log: only the rows in view are drawn, and a line link lands on its line', async () => {
    const fake = server.executions;
    const id = await started();
    await fake.step(id, 'big', 'running');
    await fake.log(id, 'big', 'line 1');
    // Written the way StepLog stores plain output: several lines per record.
    const execution = await server.store.executions.get(id);
    const file = join(server.store.dataDir, execution?.logs_dir ?? '', 'logs', 'big.log');
    await mkdir(dirname(file), { recursive: true });
    const time = new Date().toISOString();
    const records: string[] = [];
    for (let seq = 2; seq <= 500_000; seq += 10) {
      const text = Array.from({ length: Math.min(10, 500_001 - seq) }, (_, i) =>
        seq + i === 499_990 ? '+ make check' : `line ${seq + i} of the build`,
      );
      records.push(JSON.stringify({ seq, time, stream: 'stdout', text: text.join('\n') }));
    }
    await writeFile(
      file,
      `${JSON.stringify({ seq: 1, time, stream: 'stdout', text: 'line 1' })}\n${records.join('\n')}\n`,
    );
    await fake.step(id, 'big', 'success');
    await fake.finish(id, 'success');

    // Opened at its end before the server has read the log through: the command among the last
    // lines folds all the same.
    const end = await browser.context.newPage();
    await end.goto(`${base}/executions/${id}`);
    await end.locator('#log .line[data-seq="500000"] .line-text', { hasText: 'line 500000' }).waitFor();
    await end.locator('#log .line[data-seq="499990"] .fold').click();
    await end.locator('#log .line[data-seq="500000"]').waitFor({ state: 'detached' });
    assert.equal(
      await end.locator('#log .line[data-seq="499990"] .fold').getAttribute('aria-expanded'),
      'false',
    );
    await end.close();

    const page = await browser.context.newPage();
    const problems = collectProblems(page);
    await page.goto(`${base}/executions/${id}#big-250000`);
    const target = page.locator('#log .line.highlight[data-seq="250000"] .line-text');
    await target.waitFor();
    assert.equal(await target.textContent(), 'line 250000 of the build');
    assert.ok(await rowInView(page, 250_000), 'the linked line is in view');
    const rows = await page.locator('#log .line').count();
    assert.ok(rows > 10 && rows < 200, `${rows} rows in the DOM for 500,000 lines`);
    const height = await page.locator('#log .log-spacer').evaluate((s) => s.getBoundingClientRect().height);
    assert.equal(height, 500_000 * 20);

    // Another line's link, then the end of the log.
    await page.locator('#log .line[data-seq="250001"] .line-number').click();
    await page.locator('#log .line.highlight[data-seq="250001"]').waitFor();
    assert.ok(page.url().endsWith('#big-250001'));
    await page.locator('#log').evaluate((view) => {
      view.scrollTop = view.scrollHeight;
    });
    await page
      .locator('#log .line[data-seq="500000"] .line-text', { hasText: 'line 500000 of the build' })
      .waitFor();
    assert.equal(
      await page.locator('#log .line[data-seq="499990"] .fold').getAttribute('aria-expanded'),
      'true',
    );
    assert.ok((await page.locator('#log .line').count()) < 200);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
