// Reports on the pages in real Chromium: a metric chart grows while the step reports, the
// progress bar advances, test results appear when they arrive, reported text never becomes
// markup, a series' points stay bounded, and a session page overlays its executions' curves
// in the order it defines. The test decides when each report is published and waits for the
// page to show it: nothing depends on how fast the page or the machine is.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Report } from '../../engine/reports/types.ts';
import { launchBrowser } from './helpers/browser.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const POINTS = 200;

interface ChartWindow {
  gbcmsCharts: Record<string, { data: (number | null)[][]; series: { label?: string }[] }>;
  __xss?: number;
}

/** Points drawn in chart `key`'s first series; 0 before the chart exists. */
function pointsDrawn(page: Page, key: string): Promise<number> {
  return page.evaluate((name) => {
    const chart = (window as unknown as ChartWindow).gbcmsCharts[name];
    return chart ? (chart.data[1]?.filter((v) => v !== null).length ?? 0) : 0;
  }, key);
}

/** Waits until chart `key`'s first series has drawn exactly `n` points. */
async function drawn(page: Page, key: string, n: number): Promise<void> {
  await page.waitForFunction(
    ([name, count]) => {
      const chart = (window as unknown as ChartWindow).gbcmsCharts[name as string];
      return (chart?.data[1]?.filter((v) => v !== null).length ?? 0) === count;
    },
    [key, n] as const,
  );
}

function progressOf(page: Page, step: string): Promise<number> {
  return page.locator(`#progress .progress-row[data-step="${step}"] progress`).evaluate((bar) => {
    return (bar as HTMLProgressElement).value;
  });
}

describe('reports on the pages in Chromium', () => {
  let server: TestServer;
  let base: string;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    server = await startTestServer();
    base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  function watch(page: Page): string[] {
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    return problems;
  }

  test('a running step reports 200 points: the chart grows and the progress advances as they come', async () => {
    const fake = server.executions;
    const { id } = await fake.start({
      project: server.publicProject,
      trigger: { event: 'push', branch: 'main' },
      source: { kind: 'project' },
    });
    await fake.begin(id);
    await fake.step(id, 'train', 'running');

    const page = await browser.context.newPage();
    const problems = watch(page);
    await page.goto(`${base}/executions/${id}`);

    /** Points from..to-1, one batch each, as a training loop reports them. */
    const report = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const time = new Date().toISOString();
        const reports: Report[] = [
          { type: 'metric', time, name: 'loss/train', value: 2 * Math.exp(-i / 50), step: i },
          { type: 'progress', time, done: i + 1, total: POINTS, message: `batch ${i + 1}` },
        ];
        if (i % 5 === 0)
          reports.push({ type: 'metric', time, name: 'loss/val', value: 2.2 * Math.exp(-i / 60), step: i });
        await fake.reports(id, 'train', reports);
        if (i === 10)
          await fake.log(
            id,
            'train',
            '::gbcms metric name=loss/train value=1 step=10',
            'stdout',
            false,
            true,
          );
      }
    };

    // Half of the points while the step runs: the page shows exactly those.
    await report(0, POINTS / 2);
    await drawn(page, 'loss', POINTS / 2);
    await page
      .locator('#progress .progress-row[data-step="train"] .progress-count', { hasText: '100/200' })
      .waitFor();
    assert.equal(await progressOf(page, 'train'), 100);
    assert.equal(await page.locator('#status').textContent(), 'running');

    // The other half: the same chart grows to all of them, the progress to the end.
    await report(POINTS / 2, POINTS);
    await drawn(page, 'loss', POINTS);
    await page
      .locator('#progress .progress-row[data-step="train"] .progress-count', { hasText: '200/200' })
      .waitFor();
    assert.equal(await progressOf(page, 'train'), 200);
    assert.equal(
      await page.locator('#progress .progress-row[data-step="train"] .progress-message').textContent(),
      'batch 200',
    );
    assert.equal(await page.locator('#status').textContent(), 'running');

    // The test step's results arrive as a table.
    await fake.step(id, 'train', 'success');
    await fake.step(id, 'test', 'running');
    await fake.reports(id, 'test', [
      {
        type: 'tests',
        time: new Date().toISOString(),
        tests: 12,
        failures: 1,
        errors: 0,
        skipped: 2,
        duration_ms: 800,
        failed: [
          {
            suite: 'math',
            name: 'adds',
            classname: 'MathTest',
            message: 'expected 3, got 4',
            output: 'at add (math.js:3)',
          },
        ],
      },
      {
        type: 'annotation',
        time: new Date().toISOString(),
        level: 'warning',
        file: 'src/math.js',
        line: 3,
        title: 'Flaky',
      },
    ]);
    const tests = page.locator('#tests .tests[data-step="test"]');
    await tests.waitFor();
    assert.equal(await tests.locator('.count-tests').textContent(), '12');
    assert.equal(await tests.locator('.count-passed').textContent(), '9');
    assert.equal(await tests.locator('.count-failures').textContent(), '1');
    assert.equal(await tests.locator('.failed-test .test-name').textContent(), 'adds');
    assert.equal(await tests.locator('.failed-test .test-message').textContent(), 'expected 3, got 4');
    assert.equal(await tests.locator('.test-output').isVisible(), false, 'output collapsed');
    await tests.locator('details summary').click();
    assert.equal(await tests.locator('.test-output').textContent(), 'at add (math.js:3)');
    await page.locator('#annotations .annotation .place', { hasText: 'src/math.js:3' }).waitFor();

    await fake.step(id, 'test', 'failure');
    await fake.finish(id, 'success');
    await page.locator('#status.status-success').waitFor();
    assert.equal(await pointsDrawn(page, 'loss'), POINTS);
    const labels = await page.evaluate(() =>
      (window as unknown as ChartWindow).gbcmsCharts.loss?.series.map((series) => series.label),
    );
    // In the order the series first reported.
    assert.deepEqual(labels, ['step', 'loss/train', 'loss/val']);

    // The report line is in the log but hidden until asked for.
    await page.locator('#steps li[data-step="train"] .step-link').click();
    const reportLine = page.locator('#log-panel[data-step="train"] #log .line-report');
    await reportLine.waitFor({ state: 'attached' });
    assert.equal(await reportLine.count(), 1);
    assert.equal(await reportLine.isVisible(), false);
    await page.locator('#show-report-lines').check();
    assert.equal(await reportLine.isVisible(), true);
    assert.deepEqual(problems, []);
    await page.close();

    // Opened after the end, the page draws every point it stored.
    const later = await browser.context.newPage();
    const laterProblems = watch(later);
    await later.goto(`${base}/executions/${id}`);
    await drawn(later, 'loss', POINTS);
    assert.equal(await later.locator('#tests .tests[data-step="test"] .count-tests').textContent(), '12');
    assert.deepEqual(laterProblems, []);
    await later.close();
  });

  test('reported names and texts stay text', async () => {
    const fake = server.executions;
    const { id } = await fake.start({
      project: server.publicProject,
      trigger: { event: 'push', branch: 'main' },
      source: { kind: 'project' },
    });
    await fake.begin(id);
    await fake.step(id, 'evil', 'running');
    const page = await browser.context.newPage();
    const problems = watch(page);
    await page.goto(`${base}/executions/${id}`);
    const hostile = '<img src=x onerror="window.__xss=1">';
    const time = new Date().toISOString();
    await fake.reports(id, 'evil', [
      { type: 'metric', time, name: hostile, value: 1, step: 1 },
      { type: 'metric', time, name: hostile, value: 2, step: 2 },
      { type: 'progress', time, done: 1, total: 2, message: hostile },
      { type: 'annotation', time, level: 'error', file: hostile, line: 1, title: hostile, message: hostile },
      {
        type: 'tests',
        time,
        tests: 1,
        failures: 1,
        errors: 0,
        skipped: 0,
        duration_ms: 1,
        failed: [{ suite: hostile, name: hostile, classname: hostile, message: hostile, output: hostile }],
      },
    ]);
    await page.locator('#charts figure.chart figcaption').getByText(hostile).waitFor();
    await page.locator('#tests .failed-test').waitFor();
    assert.equal(await page.locator('#reports img').count(), 0);
    assert.equal(await page.locator('.u-legend img').count(), 0);
    assert.equal(await page.locator('#progress .progress-message').textContent(), hostile);
    assert.equal(await page.locator('#annotations .annotation-title').textContent(), hostile);
    assert.equal(await page.locator('#tests .test-name').textContent(), hostile);
    assert.equal(await page.evaluate(() => (window as unknown as ChartWindow).__xss), undefined);
    await fake.finish(id, 'success');

    // A series keeps at most 20,000 points: when full, every other one goes, first and newest kept.
    // A string, not a function: tsx would wrap the callbacks in a helper the page does not have.
    const capped: { length: number; first: number; last: number } = await page.evaluate(`(() => {
      const board = window.gbcmsChartBoard(document.getElementById('charts'), {
        title: (key) => key,
        label: (series) => series.name,
      });
      for (let i = 0; i < 50000; i++) {
        board.add({ chart: 'cap', series: 'cap', name: 'cap', group: 's', time: i, step: i, value: i });
      }
      board.flush();
      const xs = window.gbcmsCharts.cap.data[0];
      return { length: xs.length, first: xs[0], last: xs[xs.length - 1] };
    })()`);
    assert.ok(capped.length > 10_000 && capped.length <= 20_000, `${capped.length} points kept`);
    assert.equal(capped.first, 0);
    assert.equal(capped.last, 49_999);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a session page overlays its executions, one curve each, oldest first whichever loads first', async () => {
    const project = await server.store.projects.create({
      name: 'sweeps',
      repo: 'https://git.example.com/org/sweeps.git',
      visibility: 'public',
      owner_id: server.users.owner.id,
    });
    const session = await server.store.sessions.create(project.id, 'lr sweep');
    const time = new Date().toISOString();
    const ids: string[] = [];
    for (const [name, rate] of [
      ['lr=0.1', 0.1],
      ['lr=0.01', 0.01],
    ] as const) {
      const execution = await server.store.executions.create({
        project_id: project.id,
        trigger: { event: 'api' },
        external: { session_id: session.id, name, heartbeat_timeout_s: 60 },
      });
      ids.push(execution.id);
      const points: Report[] = [];
      for (let i = 0; i < 50; i++) {
        points.push({ type: 'metric', time, name: 'loss', value: Math.exp(-i * rate * 3), step: i });
        points.push({ type: 'metric', time, name: 'acc', value: 1 - Math.exp(-i * rate * 3), step: i });
      }
      await server.store.reports.addBatch(execution.id, 'external', points);
      await server.store.executions.setEnded(execution.id, 'success', null);
    }
    const page = await browser.context.newPage();
    const problems = watch(page);
    // The oldest execution's points are held back until the newer one's are drawn, so they
    // arrive last: the legend must still list the oldest first.
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route(
      (url) => url.pathname === `/api/executions/${ids[0]}/reports`,
      async (route) => {
        await released;
        await route.continue();
      },
    );
    await page.goto(`${base}/sessions/${session.id}`);
    const labels = (chart: string) =>
      page.evaluate(
        (key) => (window as unknown as ChartWindow).gbcmsCharts[key]?.series.map((s) => s.label),
        chart,
      );
    await page.waitForFunction(
      () => (window as unknown as ChartWindow).gbcmsCharts.loss?.series.length === 2,
    );
    assert.deepEqual(await labels('loss'), ['step', '#2 lr=0.01']);
    release();
    await page.waitForFunction(
      () => (window as unknown as ChartWindow).gbcmsCharts.loss?.series.length === 3,
    );
    await page.waitForFunction(() => (window as unknown as ChartWindow).gbcmsCharts.acc?.series.length === 3);

    assert.deepEqual(
      await page
        .locator('#session-executions tbody tr')
        .evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.label)),
      ['#1 lr=0.1', '#2 lr=0.01'],
    );
    for (const chart of ['loss', 'acc']) {
      assert.deepEqual(await labels(chart), ['step', '#1 lr=0.1', '#2 lr=0.01'], chart);
    }
    const points = await page.evaluate(() =>
      (window as unknown as ChartWindow).gbcmsCharts.loss?.data.slice(1).map((d) => d.length),
    );
    assert.deepEqual(points, [50, 50]);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
