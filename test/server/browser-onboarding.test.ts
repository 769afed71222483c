// A team's first minutes, as one flow in real Chromium and through the pages alone: an admin
// signs in, creates a project on the New project page, adds a secret with the project page's
// form, opens the secret's page, turns on per-step statuses, and still sees how to connect the
// repository, webhook secret and hook command included. The secret's value never comes back.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { SecretVault } from '../../server/secrets/vault.ts';
import { launchBrowser } from './helpers/browser.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const VALUE = 'prod-deploy-key-5e0c2f';

describe('onboarding in Chromium', () => {
  let server: TestServer;
  let base: string;
  let browser: { context: BrowserContext; close: () => Promise<void> };
  const key = randomBytes(32);

  before(async () => {
    server = await startTestServer({ secretKey: key });
    base = await server.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('an admin creates a project, adds a secret, and sees the connection instructions', async () => {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(`${base}/login`);
    await page.fill('input[name=token]', server.tokens.admin);
    await Promise.all([page.waitForURL(`${base}/`), page.click('form[action="/login"] button')]);

    await page.click('#new-project-link');
    await page.fill('input[name=name]', 'shop');
    await page.fill('input[name=repo]', 'https://git.example.com/team/shop.git');
    await Promise.all([page.waitForURL(/\/projects\/[A-Za-z0-9_-]+$/), page.click('#new-project button')]);
    const id = new URL(page.url()).pathname.split('/').pop() ?? '';
    const project = await server.store.projects.get(id);
    assert.equal(project?.name, 'shop');

    await page.fill('#secret-form input[name=name]', 'DEPLOY_KEY');
    await page.fill('#secret-form input[name=value]', VALUE);
    await page.fill('#secret-form input[name=events]', 'push, manual');
    await page.fill('#secret-form input[name=branches]', 'main');
    await Promise.all([page.waitForURL(`${base}/projects/${id}`), page.click('#secret-form button')]);
    const row = page.locator('#secrets tr[data-secret="DEPLOY_KEY"]');
    assert.match((await row.textContent()) ?? '', /DEPLOY_KEY\s*project\s*push, manual\s*main\s*admin/);
    // Stored encrypted, and readable with the server's key.
    const vault = new SecretVault(server.store.secrets, async () => key);
    assert.equal(await vault.serverValue(id, 'DEPLOY_KEY'), VALUE);

    await Promise.all([
      page.waitForURL(`${base}/projects/${id}/secrets/DEPLOY_KEY`),
      row.locator('a', { hasText: 'DEPLOY_KEY' }).click(),
    ]);
    assert.match((await page.locator('#secret').textContent()) ?? '', /Changed\s*by admin/);
    assert.doesNotMatch(await page.content(), new RegExp(VALUE));
    await page.goBack();

    await page.check('#status-settings input[name=step_statuses]');
    await Promise.all([page.waitForURL(/#commit-statuses$/), page.click('#status-settings button')]);
    assert.equal(await page.isChecked('#status-settings input[name=step_statuses]'), true);
    assert.equal((await server.store.statusSettings.get(id)).step_statuses, true);

    // Nothing has run yet: the page still says how to connect the repository.
    assert.equal(await page.locator('#connect').isVisible(), true);
    assert.equal(await page.locator('#github-webhook-url').textContent(), `${base}/hooks/github/${id}`);
    assert.equal(await page.locator('#webhook-secret').textContent(), project?.webhook_secret);
    assert.equal(
      await page.locator('#hook-install').textContent(),
      `gbcms hook install /path/to/repository.git --url ${base} --project ${id} --secret ${project?.webhook_secret}`,
    );
    assert.doesNotMatch(await page.content(), new RegExp(VALUE));
    assert.deepEqual(problems, []);
  });
});
