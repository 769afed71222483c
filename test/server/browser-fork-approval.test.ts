// The run page of a fork's pull request in real Chromium, on a real `gbcms serve` with the
// Docker backend: a member clicks Approve and the execution runs; a viewer who had the page
// open before sees it go from blocked to success live, without reloading. The project page's
// settings form changes what fork pull requests do.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { ensureBusyboxImage } from '../helpers/build-images.ts';
import { dockerTestOptions } from '../helpers/docker.ts';
import { gitSkip } from '../helpers/git.ts';
import { launchBrowser } from './helpers/browser.ts';
import { cleanUpAfterAll } from './helpers/cleanups.ts';
import {
  api,
  deliver,
  dockerResources,
  makeProject,
  makeRepos,
  pullRequestBody,
  type Repos,
  type Served,
  type Setup,
  serveProcess,
  type Who,
} from './helpers/fork-pull-requests.ts';

const { tempDir, onCleanup } = cleanUpAfterAll();
const options = gitSkip.skip ? gitSkip : await dockerTestOptions();

describe('approving a fork pull request in Chromium', options, () => {
  let repos: Repos;
  let setup: Setup;
  let server: Served;
  const contexts = new Map<Who, BrowserContext>();

  before(async () => {
    await ensureBusyboxImage();
    const dir = await tempDir('gbcms-forks-browser-');
    repos = await makeRepos(dir);
    onCleanup(async () => {
      repos.daemon.kill();
    });
    setup = await makeProject(join(dir, 'data'), repos.base);
    server = await serveProcess(setup.data, 'docker');
    onCleanup(async () => {
      server.child.kill('SIGKILL');
      await server.exited;
    });
    // One browser profile per user: each has its own sign-in cookie.
    for (const who of ['owner', 'member', 'stranger'] as const) {
      const browser = await launchBrowser();
      onCleanup(() => browser.close());
      await browser.context.addCookies([{ name: 'gbcms_token', value: setup.tokens[who], url: server.url }]);
      contexts.set(who, browser.context);
    }
  });

  async function open(who: Who, path: string): Promise<{ page: Page; problems: string[] }> {
    const context = contexts.get(who);
    if (!context) throw new Error(`no browser for ${who}`);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(`${server.url}${path}`);
    return { page, problems };
  }

  test('a member clicks Approve; the run page, and one opened before, follow it to success', async () => {
    const response = await deliver(server, setup.project, pullRequestBody(repos, 'fork'));
    const { execution_id: id } = (await response.json()) as { execution_id: string };

    // A stranger sees why it waits, without the buttons.
    const stranger = await open('stranger', `/executions/${id}`);
    assert.equal(await stranger.page.locator('#status').textContent(), 'blocked');
    assert.equal(await stranger.page.locator('#approval').isVisible(), true);
    assert.equal(await stranger.page.locator('#approve-form').count(), 0);

    const watcher = await open('owner', `/executions/${id}`);
    assert.equal(await watcher.page.locator('#status').textContent(), 'blocked');
    assert.equal(await watcher.page.locator('#approve-form').isVisible(), true);
    assert.deepEqual(await dockerResources(id), []);

    const member = await open('member', `/executions/${id}`);
    await member.page.locator('#approve-form button').click();
    await member.page.locator('#status.status-success').waitFor();
    assert.match((await member.page.locator('#approved').textContent()) ?? '', /by member/);
    assert.equal(await member.page.locator('#approval').count(), 0, 'no approval box once approved');

    // The page that was open all along went live: blocked -> (pending, running) -> success.
    await watcher.page.locator('#status.status-success').waitFor();
    assert.equal(await watcher.page.locator('#approval').isVisible(), false);
    assert.match((await watcher.page.locator('#approved').textContent()) ?? '', /by member/);
    await watcher.page.locator('#steps li[data-step="build"] .step-link').click();
    await watcher.page
      .locator('#log-panel[data-step="build"] #log')
      .getByText(repos.forkText, { exact: true })
      .waitFor();
    assert.deepEqual([...watcher.problems, ...member.problems, ...stranger.problems], []);
  });

  test('Decline on the run page ends it killed', async () => {
    const response = await deliver(server, setup.project, pullRequestBody(repos, 'fork'));
    const { execution_id: id } = (await response.json()) as { execution_id: string };
    const { page, problems } = await open('member', `/executions/${id}`);
    await page.locator('#decline-form button').click();
    await page.locator('#status.status-killed').waitFor();
    assert.equal(await page.locator('#reason').textContent(), 'declined by member');
    assert.deepEqual(problems, []);
  });

  test("the owner changes the project's fork setting on its page", async () => {
    const { page, problems } = await open('owner', `/projects/${setup.project.id}`);
    assert.match((await page.locator('#fork-pull-requests').textContent()) ?? '', /wait for a member/);
    await page.locator('#settings-form select').selectOption('never');
    await page.locator('#settings-form button').click();
    await page.locator('#fork-pull-requests', { hasText: 'never run' }).waitFor();
    const stored = await api(server, setup, 'owner', 'GET', `/api/projects/${setup.project.id}`);
    assert.equal(stored.body.fork_pull_requests, 'never');

    // A member sees the setting but not the form.
    const member = await open('member', `/projects/${setup.project.id}`);
    assert.equal(await member.page.locator('#settings-form').count(), 0);
    assert.deepEqual([...problems, ...member.problems], []);
  });
});
