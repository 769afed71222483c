// Onboarding in real Chromium: an admin registers a project on the New project page and lands
// on its page, which shows how to connect the repository, secret included; a member (a reader
// who does not manage the project) sees the instructions without the secret.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { launchBrowser } from './helpers/browser.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

describe('New project page in Chromium', () => {
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

  test('an admin creates a project and sees the webhook URL and secret; a member sees no secret', async () => {
    await browser.context.addCookies([{ name: 'gbcms_token', value: server.tokens.admin, url: base }]);
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(`${base}/`);
    await page.click('#new-project-link');
    assert.equal(new URL(page.url()).pathname, '/projects/new');
    await page.fill('input[name=name]', 'onboarded');
    await page.fill('input[name=repo]', 'https://git.example.com/org/onboarded.git');
    await page.selectOption('select[name=visibility]', 'private');
    await page.fill('input[name=max_concurrent]', '2');
    await Promise.all([page.waitForURL(/\/projects\/[A-Za-z0-9_-]+$/), page.click('#new-project button')]);

    const id = new URL(page.url()).pathname.split('/').pop() ?? '';
    const project = await server.store.projects.get(id);
    assert.equal(project?.name, 'onboarded');
    assert.equal(project?.visibility, 'private');
    assert.equal(project?.max_concurrent, 2);
    assert.equal(project?.owner_id, server.users.admin.id);

    assert.equal(await page.locator('#connect').isVisible(), true);
    assert.equal(await page.locator('#github-webhook-url').textContent(), `${base}/hooks/github/${id}`);
    assert.equal(await page.locator('#webhook-secret').textContent(), project?.webhook_secret);
    const install = await page.locator('#hook-install').textContent();
    assert.equal(
      install,
      `gbcms hook install /path/to/repository.git --url ${base} --project ${id} --secret ${project?.webhook_secret}`,
    );
    const text = (await page.locator('#connect').textContent()) ?? '';
    assert.match(text, new RegExp(`/hooks/gitea/${id}`));
    assert.match(text, new RegExp(`/hooks/gitlab/${id}`));
    assert.match(text, new RegExp(`gbcms secret set NAME --project ${id}`));
    assert.equal(await page.locator('#badge-private').isVisible(), true);

    // A member reads the project but does not manage it: the instructions, not the secret.
    await server.store.projects.addMember(id, server.users.member.id);
    await browser.context.clearCookies();
    await browser.context.addCookies([{ name: 'gbcms_token', value: server.tokens.member, url: base }]);
    await page.goto(`${base}/projects/${id}`);
    assert.equal(await page.locator('#github-webhook-url').textContent(), `${base}/hooks/github/${id}`);
    assert.equal(await page.locator('#webhook-secret').count(), 0);
    assert.doesNotMatch(await page.content(), new RegExp(project?.webhook_secret ?? 'unreachable'));
    assert.match(
      (await page.locator('#hook-install').textContent()) ?? '',
      /--secret-file FILE_WITH_THE_SECRET$/,
    );
    assert.deepEqual(problems, []);
  });

  test('developers may not open the page or post the form', async () => {
    const page = await server.app.inject({
      method: 'GET',
      url: '/projects/new',
      headers: { cookie: `gbcms_token=${server.tokens.owner}` },
    });
    assert.equal(page.statusCode, 403);
    const post = await server.app.inject({
      method: 'POST',
      url: '/projects',
      headers: {
        cookie: `gbcms_token=${server.tokens.owner}`,
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
      },
      payload: 'name=sneaky&repo=https%3A%2F%2Fexample.com%2Fa.git',
    });
    assert.equal(post.statusCode, 403);
    assert.equal(await server.store.projects.byName('sneaky'), undefined);
    const anonymous = await server.app.inject({ method: 'GET', url: '/projects/new' });
    assert.equal(anonymous.statusCode, 303);
  });

  test('a refused repository is answered with a page saying why', async () => {
    const response = await server.app.inject({
      method: 'POST',
      url: '/projects',
      headers: {
        cookie: `gbcms_token=${server.tokens.admin}`,
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
      },
      payload: 'name=bad&repo=file%3A%2F%2F%2Fetc',
    });
    assert.equal(response.statusCode, 400);
    assert.match(response.body, /repo refused: file:\/\/ URLs are not allowed/);
  });
});
