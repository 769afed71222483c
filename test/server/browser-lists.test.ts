// The executions lists in real Chromium at phone width (390 px): the project page shows what
// each execution ran (commit message, author, branch), how long and when; an external one its
// name and session; the filters and the older-executions link work together; the home page's
// recent executions and the log search page fit too; and axe finds no serious or critical
// problem on the project and home pages.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { Execution, Project } from '../../server/store/index.ts';
import { launchBrowser } from './helpers/browser.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const PHONE = { width: 390, height: 844 };

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: Array<{ target: string[] }>;
}

async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run()).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

async function assertNoSidewaysScroll(page: Page, what: string): Promise<void> {
  const { scrollWidth, clientWidth } = await page.evaluate(() => {
    const root = document.scrollingElement as Element;
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth };
  });
  assert.ok(scrollWidth <= clientWidth, `${what} scrolls sideways: ${scrollWidth} > ${clientWidth}`);
}

describe('executions lists in Chromium at 390 px', () => {
  let server: TestServer;
  let base: string;
  let browser: { context: BrowserContext; close: () => Promise<void> };
  let project: Project;
  const executions: Execution[] = [];

  /** A finished execution on `branch`, its commit filled in as a fetch would. */
  async function finished(branch: string, status: 'success' | 'failure', n: number): Promise<Execution> {
    const execution = await server.store.executions.create({
      project_id: project.id,
      trigger: { event: 'push', branch },
    });
    await server.store.executions.setCommit(execution.id, {
      commit_sha: n.toString(16).padStart(40, 'a'),
      author: `Ada Lovelace ${n}`,
      message: `Change number ${n} on ${branch}\n\nA body that the list leaves out.`,
    });
    const started = new Date(Date.now() - 60_000).toISOString();
    await server.store.executions.setStarted(execution.id, started);
    await server.store.executions.setEnded(
      execution.id,
      status,
      null,
      new Date(Date.parse(started) + 83_000).toISOString(),
    );
    return execution;
  }

  before(async () => {
    server = await startTestServer();
    base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    project = server.publicProject;
    // 30 on main (every third a failure), 5 on a long feature branch, one external execution.
    for (let n = 1; n <= 30; n++)
      executions.push(await finished('main', n % 3 === 0 ? 'failure' : 'success', n));
    for (let n = 31; n <= 35; n++)
      executions.push(await finished('feature/a-rather-long-branch-name-for-small-screens', 'success', n));
    const session = await server.store.sessions.create(project.id, 'nightly-training');
    await server.store.executions.create({
      project_id: project.id,
      trigger: { event: 'api' },
      external: { session_id: session.id, name: 'resnet sweep 7', heartbeat_timeout_s: 600 },
    });
    await server.store.logSearch.add([
      {
        execution_id: executions[0]?.id ?? '',
        project_id: project.id,
        step: 'build',
        line: 3,
        text: 'npm ERR! code ELIFECYCLE while building /home/runner/work/a/very/long/path/that/does/not/wrap/easily/node_modules/.bin/tsc',
      },
    ]);
    browser = await launchBrowser({ bypassCSP: true });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('the project page shows what ran, filters, pages, and fits the screen', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize(PHONE);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${base}/projects/${project.id}`);

    const rows = page.locator('#executions tbody tr');
    assert.equal(await rows.count(), 25);
    // Newest first: the external execution, then #35.
    const external = rows.nth(0);
    assert.match((await external.textContent()) ?? '', /resnet sweep 7\s*in nightly-training/);
    assert.equal(
      await external.locator('a', { hasText: 'nightly-training' }).getAttribute('href'),
      `/sessions/${(await server.store.sessions.list(project.id))[0]?.id}`,
    );
    const newest = rows.nth(1);
    const text = (await newest.textContent()) ?? '';
    assert.match(text, /#35/);
    assert.match(text, /Change number 35 on feature\/a-rather-long-branch-name-for-small-screens/);
    assert.doesNotMatch(text, /A body that the list leaves out/);
    assert.match(text, /Ada Lovelace 35/);
    assert.match(text, /1m 23s|1m23s|83s/);
    const time = newest.locator('time');
    assert.match((await time.getAttribute('datetime')) ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.equal(await time.getAttribute('title'), await time.getAttribute('datetime'));
    await assertNoSidewaysScroll(page, 'the project page');

    // Filters: main's failures only, then the next page keeps them.
    await page.fill('#execution-filters input[name=branch]', 'main');
    await page.selectOption('#execution-filters select[name=status]', 'failure');
    await Promise.all([
      page.waitForURL(/branch=main&status=failure/),
      page.click('#execution-filters button'),
    ]);
    const filtered = await page.locator('#executions tbody tr').allTextContents();
    assert.equal(filtered.length, 10);
    for (const row of filtered) {
      assert.match(row, /failure/);
      assert.match(row, /main/);
    }
    assert.equal(await page.locator('#older-executions').count(), 0);
    await assertNoSidewaysScroll(page, 'the filtered project page');

    await page.goto(`${base}/projects/${project.id}?branch=main`);
    assert.equal(await page.locator('#executions tbody tr').count(), 25);
    await Promise.all([page.waitForURL(/cursor=/), page.click('#older-executions')]);
    assert.match(page.url(), /branch=main/);
    const older = await page.locator('#executions tbody tr').allTextContents();
    // 30 on main: 25 on the first page, the oldest 5 here.
    assert.deepEqual(
      older.map((row) => /#(\d+)/.exec(row)?.[1]),
      ['5', '4', '3', '2', '1'],
    );
    assert.equal(await page.locator('#older-executions').count(), 0);
    await Promise.all([page.waitForURL(/\?branch=main$/), page.click('#newest-executions')]);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('the search box finds a log line; the results page fits the screen', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize(PHONE);
    await page.goto(`${base}/projects/${project.id}`);
    await page.fill('#log-search input[name=q]', 'elifecycle');
    await Promise.all([page.waitForURL(/\/search\?q=elifecycle/), page.click('#log-search button')]);
    const result = page.locator('#search-results li');
    assert.equal(await result.count(), 1);
    assert.equal(await result.locator('mark').textContent(), 'ELIFECYCLE');
    assert.equal(
      await result.locator('a').first().getAttribute('href'),
      `/executions/${executions[0]?.id}#build-3`,
    );
    await assertNoSidewaysScroll(page, 'the search page');
    assert.deepEqual(await seriousViolations(page), []);
    await page.close();
  });

  test('the home page lists executions with their session, filters, pages, and fits the screen', async () => {
    // A private project's execution: the anonymous visitor never sees it, on any page.
    await server.store.executions.create({
      project_id: server.privateProject.id,
      trigger: { event: 'push', branch: 'main' },
    });
    const page = await browser.context.newPage();
    await page.setViewportSize(PHONE);
    await page.goto(`${base}/`);
    const recent = page.locator('#recent-executions tbody tr');
    assert.equal(await recent.count(), 20);
    assert.match((await recent.nth(0).textContent()) ?? '', /resnet sweep 7\s*in nightly-training/);
    assert.match((await recent.nth(1).textContent()) ?? '', /public-app[\s\S]*Change number 35/);
    assert.doesNotMatch(await page.content(), /private-app/);
    await assertNoSidewaysScroll(page, 'the home page');

    // The older page holds the other 16 of the public project's 36, and nothing more.
    await Promise.all([page.waitForURL(/\?cursor=/), page.click('#older-executions')]);
    const older = await page.locator('#recent-executions tbody tr').allTextContents();
    assert.equal(older.length, 16);
    assert.deepEqual(
      older.map((row) => /#(\d+)/.exec(row)?.[1]),
      ['16', '15', '14', '13', '12', '11', '10', '9', '8', '7', '6', '5', '4', '3', '2', '1'],
    );
    assert.equal(await page.locator('#older-executions').count(), 0);
    assert.doesNotMatch(await page.content(), /private-app/);

    // Filters: main's failures, across every visible project.
    await page.goto(`${base}/`);
    await page.fill('#execution-filters input[name=branch]', 'main');
    await page.selectOption('#execution-filters select[name=status]', 'failure');
    await Promise.all([
      page.waitForURL(/branch=main&status=failure/),
      page.click('#execution-filters button'),
    ]);
    const failures = await page.locator('#recent-executions tbody tr').allTextContents();
    assert.equal(failures.length, 10);
    for (const row of failures) assert.match(row, /failure[\s\S]*main/);
    await assertNoSidewaysScroll(page, 'the filtered home page');

    // A cursor that is not one is the visitor's mistake, said as such.
    const bad = await page.goto(`${base}/?cursor=not-a-cursor`);
    assert.equal(bad?.status(), 400);
    await page.close();
  });

  test('axe finds no serious or critical problem on the project and home pages', async () => {
    const page = await browser.context.newPage();
    for (const viewport of [PHONE, { width: 1280, height: 900 }]) {
      await page.setViewportSize(viewport);
      for (const path of [`/projects/${project.id}`, '/']) {
        await page.goto(`${base}${path}`);
        assert.deepEqual(await seriousViolations(page), [], `${path} at ${viewport.width} px`);
      }
    }
    await page.close();
  });
});
